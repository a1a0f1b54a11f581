import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { formatAge, formatDateTime, queryKeys, unwrap, type OrderStatus } from "@shop/shared";
import { useApi, usePageTitle } from "@shop/shared/react";
import { EmptyState, ErrorState, Loading, Money, Pager, SelectField, StatusBadge, TextField, statusLabel } from "@shop/shared/ui";
import { statuses } from "../dashboard/charts";

/** The orders, newest first, filtered by status and date, a page at a time. */
export function OrdersPage() {
  usePageTitle("Orders", "Shop admin");
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const status = (params.get("status") ?? "") as OrderStatus | "";
  const from = params.get("from") ?? "";
  const to = params.get("to") ?? "";
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const filters = { status: status || undefined, from: from ? new Date(from).toISOString() : undefined, to: to ? new Date(`${to}T23:59:59.999`).toISOString() : undefined };
  const list = useQuery({
    queryKey: queryKeys.orderList({ ...filters, cursor }),
    queryFn: () => unwrap(api.order.GET("/api/v1/orders", { params: { query: { ...filters, cursor, limit: 25 } } })),
    placeholderData: keepPreviousData,
  });
  const set = (k: string, v: string) => {
    const p = new URLSearchParams(params);
    if (v) p.set(k, v);
    else p.delete(k);
    setParams(p, { replace: true });
    setCursors([]);
  };
  return (
    <>
      <h1>Orders</h1>
      <form className="filters" aria-label="Filter the orders" onSubmit={(e) => e.preventDefault()}>
        <SelectField label="Status" value={status} onChange={(e) => set("status", e.target.value)}>
          <option value="">Any status</option>
          {statuses.map((s) => <option key={s} value={s}>{statusLabel(s)}</option>)}
        </SelectField>
        <TextField label="Placed from" type="date" value={from} onChange={(e) => set("from", e.target.value)} />
        <TextField label="Placed until" type="date" value={to} onChange={(e) => set("to", e.target.value)} />
      </form>
      {list.isPending ? (
        <Loading label="Loading orders…" />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.orders.length === 0 ? (
        <EmptyState title="No orders match these filters" />
      ) : (
        <>
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Orders, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Order</th><th scope="col">Placed</th><th scope="col">Customer</th><th scope="col">Status</th>
                  <th scope="col">In status for</th><th scope="col" className="num">Lines</th><th scope="col" className="num">Total</th>
                </tr>
              </thead>
              <tbody>
                {list.data.orders.map((o) => (
                  <tr key={o.id}>
                    <td><Link to={`/orders/${o.id}`} className="id">{o.id.slice(0, 8)}</Link></td>
                    <td>{formatDateTime(o.created_at)}</td>
                    <td><code className="id">{o.user_id.slice(0, 8)}</code></td>
                    <td><StatusBadge status={o.status} />{o.cancel_reason && <span className="muted small"> {o.cancel_reason}</span>}</td>
                    <td>{formatAge(o.status_changed_at)}</td>
                    <td className="num">{o.item_count}</td>
                    <td className="num"><Money minor={o.total.amount_minor} currency={o.total.currency} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager page={cursors.length + 1} hasPrevious={cursors.length > 0} hasNext={!!list.data.next_cursor} busy={list.isFetching}
            onPrevious={() => setCursors((c) => c.slice(0, -1))} onNext={() => list.data.next_cursor && setCursors((c) => [...c, list.data.next_cursor!])} />
        </>
      )}
    </>
  );
}
