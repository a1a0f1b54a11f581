import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { Alert, Button, ErrorState, Loading, Money } from "@shop/shared/ui";
import { isProblem } from "@shop/shared";
import { usePageTitle } from "../../layout/usePageTitle";
import { cart } from "../cart/cart";
import { ProductTile } from "./ProductCard";
import { useAvailability, useProduct } from "./queries";

function Availability({ productId }: { productId: string }) {
  const stock = useAvailability(productId);
  if (stock.isPending) return <p className="muted">Checking stock…</p>;
  if (stock.isError) return <p className="muted">Stock information is not available right now.</p>;
  const s = stock.data;
  if (!s.in_stock) return <p className="stock stock--out">Out of stock</p>;
  return (
    <p className={`stock ${s.available <= 5 ? "stock--low" : "stock--in"}`}>
      {s.available <= 5 ? `Only ${s.available} left` : "In stock"}
    </p>
  );
}

export function ProductPage() {
  const { id = "" } = useParams();
  const product = useProduct(id);
  const [qty, setQty] = useState(1);
  const [added, setAdded] = useState(false);
  usePageTitle(product.data?.name ?? "Product");
  if (product.isPending) return <Loading label="Loading the product…" />;
  if (product.isError) {
    if (isProblem(product.error) && product.error.status === 404) {
      return <ErrorState title="This product does not exist" error={product.error} />;
    }
    return <ErrorState error={product.error} onRetry={() => product.refetch()} />;
  }
  const p = product.data;
  const add = () => {
    cart.add({ productId: p.id, name: p.name, sku: p.sku, priceMinor: p.price_minor, currency: p.currency }, qty);
    setAdded(true);
  };
  return (
    <article className="product">
      <p className="breadcrumb">
        <Link to="/">All products</Link>
      </p>
      <div className="product__layout">
        <ProductTile product={p} large />
        <div className="product__info">
          <h1>{p.name}</h1>
          <p className="product__price">
            <Money minor={p.price_minor} currency={p.currency} />
          </p>
          {p.status !== "ACTIVE" ? (
            <Alert tone="warning">This product is no longer sold.</Alert>
          ) : (
            <>
              <Availability productId={p.id} />
              <div className="product__buy">
                <div className="ui-field product__qty">
                  <label htmlFor="qty">Quantity</label>
                  <input id="qty" type="number" min={1} max={99} inputMode="numeric" value={qty}
                    onChange={(e) => setQty(Math.max(1, Math.min(99, Number(e.target.value) || 1)))} />
                </div>
                <Button onClick={add}>Add to cart</Button>
              </div>
              {added && (
                <Alert tone="success">
                  Added to your cart. <Link to="/cart">View cart</Link>
                </Alert>
              )}
            </>
          )}
          {p.description && <p className="product__description">{p.description}</p>}
          <p className="muted">SKU {p.sku}</p>
        </div>
      </div>
    </article>
  );
}
