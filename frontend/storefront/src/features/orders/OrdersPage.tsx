import { useInfiniteQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { queryKeys, unwrap } from "@shop/shared";
import { Button, EmptyState, ErrorState, Loading, Money, StatusBadge } from "@shop/shared/ui";
import { useApi } from "../../api";
import { useAuth } from "../../auth/auth";
import { usePageTitle } from "../../layout/usePageTitle";

export function OrdersPage() {
  usePageTitle("Your orders");
  const api = useApi();
  const { user } = useAuth();
  const userId = user?.id ?? "";
  const orders = useInfiniteQuery({
    queryKey: queryKeys.orders(userId),
    enabled: userId !== "",
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(api.order.GET("/api/v1/orders/user/{userId}", { params: { path: { userId }, query: { limit: 20, cursor: pageParam } } })),
    getNextPageParam: (last) => last.next_cursor || undefined,
  });
  const list = orders.data?.pages.flatMap((p) => p.orders) ?? [];
  return (
    <section>
      <h1>Your orders</h1>
      {(orders.isPending || !user) && <Loading label="Loading your orders…" />}
      {orders.isError && <ErrorState error={orders.error} onRetry={() => orders.refetch()} />}
      {orders.isSuccess && list.length === 0 && (
        <EmptyState title="No orders yet">
          <p>
            <Link to="/">Start shopping</Link>
          </p>
        </EmptyState>
      )}
      {list.length > 0 && (
        <ul className="order-list">
          {list.map((o) => (
            <li key={o.id} className="card order-row">
              <Link to={`/orders/${o.id}`} className="order-row__link">
                Order <span className="mono">{o.id.slice(-8).toUpperCase()}</span>
              </Link>
              <span className="muted">{new Date(o.created_at).toLocaleString()}</span>
              <span>{o.item_count} item{o.item_count === 1 ? "" : "s"}</span>
              <Money minor={o.total.amount_minor} currency={o.total.currency} />
              <StatusBadge status={o.status} />
            </li>
          ))}
        </ul>
      )}
      {orders.hasNextPage && (
        <div className="center">
          <Button variant="secondary" busy={orders.isFetchingNextPage} onClick={() => orders.fetchNextPage()}>Show older orders</Button>
        </div>
      )}
    </section>
  );
}
