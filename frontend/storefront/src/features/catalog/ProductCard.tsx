import { Link } from "react-router-dom";
import type { Product } from "@shop/shared";
import { Money } from "@shop/shared/ui";

/** A tile colour from the product's ID: the demo catalog has no pictures
 * the shop could serve itself, and a stable colour tells items apart. */
export function tileHue(id: string): number {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return h;
}

export function ProductTile({ product, large = false }: { product: Pick<Product, "id" | "name">; large?: boolean }) {
  return (
    <div className={`product-tile${large ? " product-tile--large" : ""}`} style={{ ["--hue" as string]: tileHue(product.id) }} aria-hidden="true">
      <span>{product.name.slice(0, 1)}</span>
    </div>
  );
}

export function ProductCard({ product }: { product: Product }) {
  return (
    <li className="product-card card">
      <ProductTile product={product} />
      <h3 className="product-card__name">
        <Link to={`/products/${product.id}`}>{product.name}</Link>
      </h3>
      <p className="product-card__price">
        <Money minor={product.price_minor} currency={product.currency} />
      </p>
    </li>
  );
}
