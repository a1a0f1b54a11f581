import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { formatAge, formatDateTime, queryKeys, unwrap, type Order, type OrderStatus } from "@shop/shared";
import { useApi, usePageTitle } from "@shop/shared/react";
import { EmptyState, ErrorState, Loading, Money, StatusBadge, statusLabel } from "@shop/shared/ui";

/** What holds an order in a status, and what staff can do about it. */
export const remedies: Partial<Record<OrderStatus, { why: string; services: string[]; todo: string }>> = {
  CREATED: {
    why: "Inventory has not answered ORDER_CREATED: its consumer may be down or lagging, or the event was dead-lettered.",
    services: ["inventory", "order"],
    todo: "Look for the order's events in inventory's dead letters and replay them once the cause is fixed; the saga cancels the order by itself (SAGA_TIMEOUT) when inventory never answers, or cancel it now.",
  },
  PAYMENT_PENDING: {
    why: "The reservation should have expired or the customer paid, but the order never heard: an event was lost or dead-lettered.",
    services: ["order", "payment", "inventory"],
    todo: "Check the dead letters of order, payment and inventory for this order and replay them; open the timeline to see the last step; cancelling voids the payment and releases the stock.",
  },
};

/** The stuck sagas: orders past their status's SLA, per status, oldest first, with what can be done about each. */
export function StuckPage() {
  usePageTitle("Stuck sagas", "Shop admin");
  const api = useApi();
  const list = useQuery({
    queryKey: queryKeys.orderList({ stuck: true }),
    queryFn: () => unwrap(api.order.GET("/api/v1/orders", { params: { query: { stuck: true, limit: 100 } } })),
    refetchInterval: 15_000,
  });
  if (list.isPending) return <Loading label="Looking for stuck sagas…" />;
  if (list.isError) return <ErrorState error={list.error} onRetry={() => void list.refetch()} />;
  const byStatus = new Map<OrderStatus, Order[]>();
  for (const o of [...list.data.orders].reverse()) byStatus.set(o.status, [...(byStatus.get(o.status) ?? []), o]);
  return (
    <>
      <h1>Stuck sagas</h1>
      <p className="muted">Orders longer than their status's SLA in a status that waits on the saga (refreshed every 15 s).</p>
      {byStatus.size === 0 && <EmptyState title="No stuck sagas"><p>Every order waiting on the saga is within its SLA.</p></EmptyState>}
      {[...byStatus].map(([status, orders]) => {
        const r = remedies[status];
        return (
          <section key={status} className="card stuck" aria-labelledby={`stuck-${status}`}>
            <h2 id={`stuck-${status}`}>{statusLabel(status)}: {orders.length} {orders.length === 1 ? "order" : "orders"}</h2>
            {r && <p>{r.why}</p>}
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr><th scope="col">Order</th><th scope="col">Status</th><th scope="col">Stuck for</th><th scope="col">Placed</th><th scope="col" className="num">Total</th><th scope="col">What can be done</th></tr>
                </thead>
                <tbody>
                  {orders.map((o) => (
                    <tr key={o.id}>
                      <td><Link to={`/orders/${o.id}`} className="id">{o.id.slice(0, 8)}</Link></td>
                      <td><StatusBadge status={o.status} /></td>
                      <td><strong>{formatAge(o.status_changed_at)}</strong></td>
                      <td>{formatDateTime(o.created_at)}</td>
                      <td className="num"><Money minor={o.total.amount_minor} currency={o.total.currency} /></td>
                      <td>
                        <ul className="remedies">
                          <li><Link to={`/orders/${o.id}`}>Open its saga timeline (cancel from there)</Link></li>
                          {(r?.services ?? []).map((s) => (
                            <li key={s}><Link to={`/dead-letters?service=${s}&order_id=${o.id}`}>Its dead letters in {s}</Link></li>
                          ))}
                        </ul>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {r && <p className="small"><strong>What to do:</strong> {r.todo}</p>}
          </section>
        );
      })}
    </>
  );
}
