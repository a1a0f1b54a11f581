import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { formatDateTime, formatDuration, queryKeys, unwrap } from "@shop/shared";
import { useApi, usePageTitle } from "@shop/shared/react";
import { EmptyState, ErrorState, Loading } from "@shop/shared/ui";
import { useProductNames } from "./useProductNames";

/** Ticks every second, for countdowns. */
function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return now;
}

/** The reservations that hold stock now, soonest expiry first (all of them, or one product's). */
export function ReservationsTable({ productId }: { productId?: string }) {
  const api = useApi();
  const names = useProductNames();
  const now = useNow();
  const list = useQuery({
    queryKey: queryKeys.reservations({ productId }),
    queryFn: () => unwrap(api.inventory.GET("/api/v1/inventory/reservations", { params: { query: { product_id: productId, limit: 100 } } })),
    refetchInterval: 10_000,
  });
  if (list.isPending) return <Loading label="Loading reservations…" />;
  if (list.isError) return <ErrorState error={list.error} onRetry={() => void list.refetch()} />;
  if (list.data.items.length === 0) return <EmptyState title="No active reservations"><p>No order holds stock{productId ? " of this product" : ""} now.</p></EmptyState>;
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="visually-hidden">Active reservations, soonest expiry first</caption>
        <thead><tr><th scope="col">Order</th><th scope="col">Lines</th><th scope="col">Reserved at</th><th scope="col">Expires</th><th scope="col">Time left</th></tr></thead>
        <tbody>
          {list.data.items.map((r) => {
            const left = new Date(r.expires_at).getTime() - now;
            return (
              <tr key={r.id}>
                <td><Link to={`/orders/${r.order_id}`} className="id">{r.order_id.slice(0, 8)}</Link></td>
                <td>{r.lines.map((l) => `${l.quantity} × ${names.get(l.product_id) ?? l.product_id.slice(0, 8)}`).join(", ")}</td>
                <td>{formatDateTime(r.created_at)}</td>
                <td>{formatDateTime(r.expires_at)}</td>
                <td>{left > 0 ? formatDuration(left) : <strong>expiring now</strong>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function ReservationsPage() {
  usePageTitle("Reservations", "Shop admin");
  return (
    <>
      <h1>Active reservations</h1>
      <p className="muted">Stock held for orders awaiting payment. An unpaid order's reservation expires; the order is then cancelled and the stock released.</p>
      <ReservationsTable />
    </>
  );
}
