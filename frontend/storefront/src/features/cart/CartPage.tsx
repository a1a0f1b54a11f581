import { Link, useNavigate } from "react-router-dom";
import { Button, EmptyState, Money } from "@shop/shared/ui";
import { usePageTitle } from "../../layout/usePageTitle";
import { cart, cartTotals, useCart } from "./cart";

export function CartPage() {
  usePageTitle("Your cart");
  const lines = useCart();
  const navigate = useNavigate();
  if (lines.length === 0) {
    return (
      <section>
        <h1>Your cart</h1>
        <EmptyState title="Your cart is empty">
          <p>
            <Link to="/">Browse the shop</Link> and add what you like.
          </p>
        </EmptyState>
      </section>
    );
  }
  const totals = cartTotals(lines);
  return (
    <section>
      <h1>Your cart</h1>
      <ul className="cart-lines" aria-label="Items in your cart">
        {lines.map((l) => (
          <li key={l.productId} className="cart-line card">
            <div className="cart-line__name">
              <Link to={`/products/${l.productId}`}>{l.name}</Link>
              <span className="muted">
                <Money minor={l.priceMinor} currency={l.currency} /> each
              </span>
            </div>
            <div className="cart-line__qty">
              <label htmlFor={`qty-${l.productId}`}>Quantity</label>
              <input id={`qty-${l.productId}`} type="number" min={1} max={99} inputMode="numeric" value={l.quantity}
                onChange={(e) => cart.setQuantity(l.productId, Number(e.target.value) || 1)} />
            </div>
            <Money className="cart-line__total" minor={l.priceMinor * l.quantity} currency={l.currency} />
            <Button variant="link" onClick={() => cart.remove(l.productId)} aria-label={`Remove ${l.name}`}>
              Remove
            </Button>
          </li>
        ))}
      </ul>
      <div className="cart-summary card">
        <p className="cart-summary__total">
          Total{" "}
          {totals.map((t, i) => (
            <span key={t.currency}>
              {i > 0 && " + "}
              <Money minor={t.minor} currency={t.currency} />
            </span>
          ))}
        </p>
        <p className="muted">Prices are checked again before you place the order.</p>
        <Button onClick={() => navigate("/checkout")}>Go to checkout</Button>
      </div>
    </section>
  );
}
