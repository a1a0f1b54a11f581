import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { queryKeys, unwrap } from "@shop/shared";
import { useApi, usePageTitle } from "@shop/shared/react";
import { Badge, EmptyState, ErrorState, Loading, Pager } from "@shop/shared/ui";
import { useProductNames } from "./useProductNames";

/** Stock per product: on hand, reserved, available; low stock highlighted. */
export function InventoryPage() {
  usePageTitle("Inventory", "Shop admin");
  const api = useApi();
  const names = useProductNames();
  const [params, setParams] = useSearchParams();
  const low = params.get("low") === "1";
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const list = useQuery({
    queryKey: queryKeys.stockList({ low, cursor }),
    queryFn: () => unwrap(api.inventory.GET("/api/v1/inventory", { params: { query: { low_stock: low || undefined, cursor, limit: 50 } } })),
    placeholderData: keepPreviousData,
  });
  return (
    <>
      <h1>Inventory</h1>
      <div className="filters">
        <label className="check">
          <input type="checkbox" checked={low} onChange={(e) => { setParams(e.target.checked ? { low: "1" } : {}, { replace: true }); setCursors([]); }} />
          Only low stock
        </label>
      </div>
      {list.isPending ? <Loading label="Loading stock…" /> : list.isError ? <ErrorState error={list.error} onRetry={() => void list.refetch()} /> :
        list.data.items.length === 0 ? <EmptyState title={low ? "Nothing is low on stock" : "No stock yet"} /> : (
          <>
            <div className="table-wrap">
              <table className="table">
                <caption className="visually-hidden">Stock per product</caption>
                <thead>
                  <tr><th scope="col">Product</th><th scope="col">SKU</th><th scope="col" className="num">On hand</th><th scope="col" className="num">Reserved</th>
                    <th scope="col" className="num">Available</th><th scope="col">Low at</th><th scope="col">Status</th></tr>
                </thead>
                <tbody>
                  {list.data.items.map((s) => (
                    <tr key={s.product_id} className={s.low_stock ? "row--low" : undefined}>
                      <td><Link to={`/inventory/${s.product_id}`}>{names.get(s.product_id) ?? s.sku}</Link></td>
                      <td><code>{s.sku}</code></td>
                      <td className="num">{s.on_hand}</td>
                      <td className="num">{s.reserved}</td>
                      <td className="num"><strong>{s.available}</strong>{s.low_stock && <> <Badge tone="warning">Low stock</Badge></>}</td>
                      <td>{s.low_stock_threshold}</td>
                      <td>{s.status}</td>
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
