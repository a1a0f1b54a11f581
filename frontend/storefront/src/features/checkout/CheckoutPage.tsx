import { useMutation, useQueries, useQueryClient } from "@tanstack/react-query";
import { useRef } from "react";
import { Link, useNavigate } from "react-router-dom";
import { errorMessage, isProblem, queryKeys, unwrap, type Product } from "@shop/shared";
import { Alert, Button, EmptyState, Loading, Money } from "@shop/shared/ui";
import { useApi } from "../../api";
import { usePageTitle } from "../../layout/usePageTitle";
import { cart, cartTotals, useCart, type CartLine } from "../cart/cart";
import { checkoutAttempt, endAttempt } from "./attempt";
import { rememberOrderTrace, traceHeaders } from "./trace";

interface Change {
  line: CartLine;
  now?: Product; // undefined: no longer sold
}

export function CheckoutPage() {
  usePageTitle("Checkout");
  const api = useApi();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const lines = useCart();
  // Prices come from the catalog again, whatever the cart remembers.
  const current = useQueries({
    queries: lines.map((l) => ({
      queryKey: queryKeys.product(l.productId),
      queryFn: () => unwrap(api.catalog.GET("/api/v1/products/{id}", { params: { path: { id: l.productId } } })),
      staleTime: 0,
      retry: (n: number, err: unknown) => !(isProblem(err) && err.status === 404) && n < 2,
    })),
  });
  const placing = useRef(false);
  const place = useMutation({
    mutationFn: async () => {
      const { key, trace } = checkoutAttempt(lines);
      const order = await unwrap(
        api.order.POST("/api/v1/orders", {
          params: { header: { "Idempotency-Key": key } },
          headers: traceHeaders(trace),
          body: { lines: lines.map((l) => ({ product_id: l.productId, quantity: l.quantity })) },
        }),
      );
      rememberOrderTrace(order.id, trace);
      return order;
    },
    onSuccess: (order) => {
      endAttempt();
      cart.clear();
      qc.setQueryData(queryKeys.order(order.id), order);
      void qc.invalidateQueries({ queryKey: ["order", "list"] });
      navigate(`/orders/${order.id}`);
    },
    onSettled: () => {
      placing.current = false;
    },
  });

  if (lines.length === 0 && !place.isSuccess) {
    return (
      <section>
        <h1>Checkout</h1>
        <EmptyState title="Your cart is empty">
          <p>
            <Link to="/">Browse the shop</Link> first.
          </p>
        </EmptyState>
      </section>
    );
  }
  if (current.some((q) => q.isPending)) return <Loading label="Checking prices…" />;
  const failed = current.find((q) => q.isError && !(isProblem(q.error) && q.error.status === 404));
  const changes: Change[] = [];
  lines.forEach((line, i) => {
    const now = current[i].data;
    if (!now || now.status !== "ACTIVE") changes.push({ line });
    else if (now.price_minor !== line.priceMinor || now.currency !== line.currency) changes.push({ line, now });
  });
  const gone = changes.filter((c) => !c.now);
  const repriced = changes.filter((c) => c.now);
  const totals = cartTotals(lines);

  const acceptPrices = () => {
    const next: Record<string, { priceMinor: number; currency: string; name: string }> = {};
    for (const c of repriced) next[c.line.productId] = { priceMinor: c.now!.price_minor, currency: c.now!.currency, name: c.now!.name };
    cart.reprice(next);
    for (const c of gone) cart.remove(c.line.productId);
  };
  const submit = () => {
    // The button is disabled while placing; this guards the same tick.
    if (placing.current) return;
    placing.current = true;
    place.mutate();
  };

  return (
    <section className="checkout">
      <h1>Checkout</h1>
      {failed && <Alert tone="error" title="Prices could not be checked">{errorMessage(failed.error)}</Alert>}
      {changes.length > 0 && (
        <Alert tone="warning" title="Your cart has changed since you added these">
          <ul>
            {repriced.map((c) => (
              <li key={c.line.productId}>
                {c.line.name}: was <Money minor={c.line.priceMinor} currency={c.line.currency} />, now{" "}
                <strong><Money minor={c.now!.price_minor} currency={c.now!.currency} /></strong>
              </li>
            ))}
            {gone.map((c) => (
              <li key={c.line.productId}>{c.line.name} is no longer sold.</li>
            ))}
          </ul>
          <Button variant="secondary" onClick={acceptPrices}>
            Update my cart
          </Button>
        </Alert>
      )}
      <table className="summary-table card">
        <caption className="visually-hidden">Your order</caption>
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col" className="num">Qty</th>
            <th scope="col" className="num">Price</th>
          </tr>
        </thead>
        <tbody>
          {lines.map((l) => (
            <tr key={l.productId}>
              <td>{l.name}</td>
              <td className="num">{l.quantity}</td>
              <td className="num"><Money minor={l.priceMinor * l.quantity} currency={l.currency} /></td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row" colSpan={2}>Total</th>
            <td className="num">
              {totals.map((t, i) => (
                <span key={t.currency}>
                  {i > 0 && " + "}
                  <Money minor={t.minor} currency={t.currency} />
                </span>
              ))}
            </td>
          </tr>
        </tfoot>
      </table>
      {place.isError && (
        <Alert tone="error" title="The order was not placed">
          {errorMessage(place.error)}
          {isProblem(place.error, "validation") && Object.values(place.error.fields).length > 0 && (
            <ul>
              {Object.entries(place.error.fields).map(([f, m]) => (
                <li key={f}>{m}</li>
              ))}
            </ul>
          )}
          {isProblem(place.error) && place.error.status === 0 && <p>Trying again is safe: it will not place a second order.</p>}
        </Alert>
      )}
      <div className="checkout__actions">
        <Link to="/cart">Back to cart</Link>
        <Button onClick={submit} busy={place.isPending} disabled={changes.length > 0 || !!failed}>
          {place.isError ? "Try again" : "Place order"}
        </Button>
      </div>
      <p className="muted">Your stock is held for you once the order is placed; you pay on the next page.</p>
    </section>
  );
}
