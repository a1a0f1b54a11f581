import { useState, type FormEvent } from "react";
import { useParams, useSearchParams } from "react-router-dom";
import { Button, EmptyState, ErrorState, Loading } from "@shop/shared/ui";
import { usePageTitle } from "../../layout/usePageTitle";
import { CategoryNav } from "./CategoryNav";
import { ProductCard } from "./ProductCard";
import { useProducts, type ProductFilters, type Sort } from "./queries";

const sorts: { value: Sort; label: string }[] = [
  { value: "newest", label: "Newest" },
  { value: "price_asc", label: "Price: low to high" },
  { value: "price_desc", label: "Price: high to low" },
];

/** toMinor reads a price typed in major units ("12.50") as minor units. */
function toMinor(s: string | null): number | undefined {
  if (!s) return undefined;
  const n = Number(s);
  return Number.isFinite(n) && n >= 0 ? Math.round(n * 100) : undefined;
}

export function ProductListPage() {
  const [params, setParams] = useSearchParams();
  const { "*": categoryPath } = useParams();
  const q = params.get("q")?.trim() || undefined;
  const sortParam = params.get("sort") as Sort | null;
  const sort: Sort = sortParam ?? (q ? "relevance" : "newest");
  const filters: ProductFilters = {
    q,
    category: categoryPath || undefined,
    sort,
    min_price: toMinor(params.get("min")),
    max_price: toMinor(params.get("max")),
  };
  const title = q ? `Results for “${q}”` : categoryPath ? categoryPath.split("/").pop()!.replace(/-/g, " ") : "All products";
  usePageTitle(title);
  const products = useProducts(filters);
  const [min, setMin] = useState(params.get("min") ?? "");
  const [max, setMax] = useState(params.get("max") ?? "");

  const update = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    setParams(next);
  };
  const applyPrice = (e: FormEvent) => {
    e.preventDefault();
    update({ min: min || undefined, max: max || undefined });
  };
  const items = products.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <div className="catalog">
      <aside className="catalog__side">
        <CategoryNav />
      </aside>
      <section className="catalog__main" aria-labelledby="list-title">
        <h1 id="list-title" className={categoryPath && !q ? "capitalize" : undefined}>{title}</h1>
        <div className="toolbar">
          <div className="ui-field toolbar__sort">
            <label htmlFor="sort">Sort by</label>
            <select id="sort" value={sort} onChange={(e) => update({ sort: e.target.value })}>
              {q && <option value="relevance">Best match</option>}
              {sorts.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          </div>
          <form className="toolbar__price" onSubmit={applyPrice} aria-label="Price filter">
            <div className="ui-field">
              <label htmlFor="min">Min price</label>
              <input id="min" inputMode="decimal" value={min} onChange={(e) => setMin(e.target.value)} />
            </div>
            <div className="ui-field">
              <label htmlFor="max">Max price</label>
              <input id="max" inputMode="decimal" value={max} onChange={(e) => setMax(e.target.value)} />
            </div>
            <Button type="submit" variant="secondary">Apply</Button>
          </form>
        </div>
        {products.isPending && <Loading label="Loading products…" />}
        {products.isError && <ErrorState error={products.error} onRetry={() => products.refetch()} />}
        {products.isSuccess && items.length === 0 && (
          <EmptyState title="No products found">
            <p>{q ? "Try other words, or fewer filters." : "Try another category, or fewer filters."}</p>
          </EmptyState>
        )}
        {items.length > 0 && (
          <>
            <p className="muted" aria-live="polite">
              Showing {items.length} product{items.length === 1 ? "" : "s"}
            </p>
            <ul className="product-grid" aria-label="Products">
              {items.map((p) => (
                <ProductCard key={p.id} product={p} />
              ))}
            </ul>
          </>
        )}
        {products.hasNextPage && (
          <div className="center">
            <Button variant="secondary" busy={products.isFetchingNextPage} onClick={() => products.fetchNextPage()}>
              Show more
            </Button>
          </div>
        )}
      </section>
    </div>
  );
}
