import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { formatDateTime, queryKeys, unwrap, type ProductStatus } from "@shop/shared";
import { useApi, useAuth, usePageTitle } from "@shop/shared/react";
import { Badge, Button, EmptyState, ErrorState, Loading, Money, Pager, SelectField, TextField } from "@shop/shared/ui";

export const productTone = { DRAFT: "warning", ACTIVE: "success", ARCHIVED: "neutral" } as const;

/** The products: a seller's own, or every product for an admin. */
export function ProductsPage() {
  usePageTitle("Products", "Shop admin");
  const api = useApi();
  const { user } = useAuth();
  const isAdmin = user?.role === "ADMIN";
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const status = (params.get("status") ?? "") as ProductStatus | "";
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const query = { q: q || undefined, status: status || undefined, seller: isAdmin ? undefined : user?.id, cursor, limit: 25 };
  const list = useQuery({
    queryKey: queryKeys.products({ ...query, scope: "admin" }),
    queryFn: () => unwrap(api.catalog.GET("/api/v1/products", { params: { query } })),
    enabled: !!user,
    placeholderData: keepPreviousData,
  });
  const search = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const p = new URLSearchParams();
    for (const k of ["q", "status"]) {
      const v = String(f.get(k) ?? "").trim();
      if (v) p.set(k, v);
    }
    setParams(p, { replace: true });
    setCursors([]);
  };
  return (
    <>
      <div className="page-head">
        <h1>{isAdmin ? "Products" : "Your products"}</h1>
        <Link className="ui-button ui-button--primary" to="/products/new">New product</Link>
      </div>
      <form className="filters" role="search" aria-label="Find products" onSubmit={search} key={params.toString()}>
        <TextField label="Search" name="q" type="search" defaultValue={q} />
        <SelectField label="Status" name="status" defaultValue={status}>
          <option value="">Any status</option>
          <option value="DRAFT">Draft</option>
          <option value="ACTIVE">Active</option>
          <option value="ARCHIVED">Archived</option>
        </SelectField>
        <Button type="submit" variant="secondary">Search</Button>
      </form>
      {list.isPending ? (
        <Loading label="Loading products…" />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.items.length === 0 ? (
        <EmptyState title="No products here yet"><p><Link to="/products/new">Create one</Link></p></EmptyState>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Products</caption>
              <thead>
                <tr><th scope="col">Product</th><th scope="col">SKU</th><th scope="col">Status</th><th scope="col" className="num">Price</th><th scope="col">Changed</th><th scope="col">Stock</th></tr>
              </thead>
              <tbody>
                {list.data.items.map((p) => (
                  <tr key={p.id}>
                    <td><Link to={`/products/${p.id}`}>{p.name}</Link></td>
                    <td><code>{p.sku}</code></td>
                    <td><Badge tone={productTone[p.status]}>{p.status}</Badge></td>
                    <td className="num"><Money minor={p.price_minor} currency={p.currency} /></td>
                    <td>{formatDateTime(p.updated_at)}</td>
                    <td><Link to={`/inventory/${p.id}`}>Stock</Link></td>
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
