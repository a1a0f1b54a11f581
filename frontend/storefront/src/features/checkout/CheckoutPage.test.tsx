import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { FakeServer, json } from "../../../../shared/src/test/fakeServer";
import { me, product, renderApp } from "../../test/render";
import { cart } from "../cart/cart";
import { orderTrace } from "./trace";

const P1 = "11111111-1111-4111-8111-111111111111";
const P2 = "22222222-2222-4222-8222-222222222222";

function order(id = "33333333-3333-4333-8333-333333333333") {
  return {
    id, user_id: me.id, status: "CREATED", total: { amount_minor: 2500, currency: "EUR" }, item_count: 1,
    created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", status_changed_at: "2026-01-01T00:00:00Z",
  };
}

function shop() {
  return new FakeServer()
    .on("GET /api/v1/users/me", () => json(me))
    .on("GET /api/v1/categories", () => json({ items: [] }))
    .on("GET /api/v1/orders/:id/progress", () => json({ version: 1, order: order(), timeline: [] }))
    .on("GET /api/v1/orders/:id/events", () => new Response("", { status: 503 }));
}

describe("checkout", () => {
  it("shows a price change before the order is placed, and places it only at the new price", async () => {
    cart.add({ productId: P1, name: "Lamp", sku: "LAMP", priceMinor: 1000, currency: "EUR" }, 2);
    cart.add({ productId: P2, name: "Mug", sku: "MUG", priceMinor: 500, currency: "EUR" });
    const server = shop()
      .on(`GET /api/v1/products/${P1}`, () => json(product(P1, "Lamp", 1200)))
      .on(`GET /api/v1/products/${P2}`, () => json(product(P2, "Mug", 500)))
      .on("POST /api/v1/orders", () => json(order(), 201));
    renderApp("/checkout", server, { signedIn: true });

    const warning = await screen.findByText("Your cart has changed since you added these");
    expect(warning.parentElement).toHaveTextContent("Lamp: was €10.00, now €12.00");
    expect(screen.getByRole("button", { name: "Place order" })).toBeDisabled();

    await userEvent.click(screen.getByRole("button", { name: "Update my cart" }));
    await waitFor(() => expect(screen.getByRole("button", { name: "Place order" })).toBeEnabled());
    expect(screen.getByRole("table")).toHaveTextContent("€24.00");
    expect(server.sent("POST /api/v1/orders")).toHaveLength(0);
  });

  it("sends one order for a double click", async () => {
    cart.add({ productId: P1, name: "Lamp", sku: "LAMP", priceMinor: 1000, currency: "EUR" });
    const server = shop()
      .on(`GET /api/v1/products/${P1}`, () => json(product(P1, "Lamp", 1000)))
      .on("POST /api/v1/orders", async () => {
        await new Promise((r) => setTimeout(r, 200)); // the answer takes a moment
        return json(order(), 201);
      });
    renderApp("/checkout", server, { signedIn: true });
    await userEvent.dblClick(await screen.findByRole("button", { name: "Place order" }));
    await screen.findByRole("list", { name: "Order progress" });
    expect(server.sent("POST /api/v1/orders")).toHaveLength(1);
    expect(cart.lines()).toHaveLength(0);
  });

  it("sends the same Idempotency-Key when retried after a network error", async () => {
    cart.add({ productId: P1, name: "Lamp", sku: "LAMP", priceMinor: 1000, currency: "EUR" });
    let failNext = true;
    const server = shop()
      .on(`GET /api/v1/products/${P1}`, () => json(product(P1, "Lamp", 1000)))
      .on("POST /api/v1/orders", async () => {
        if (failNext) {
          failNext = false;
          throw new TypeError("network down");
        }
        return json(order(), 201);
      });
    renderApp("/checkout", server, { signedIn: true });

    await userEvent.click(await screen.findByRole("button", { name: "Place order" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Trying again is safe: it will not place a second order.");
    await userEvent.click(screen.getByRole("button", { name: "Try again" }));
    await screen.findByRole("list", { name: "Order progress" });
    const sent = server.sent("POST /api/v1/orders");
    expect(sent).toHaveLength(2);
    expect(sent[0].headers.get("Idempotency-Key")).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent[1].headers.get("Idempotency-Key")).toBe(sent[0].headers.get("Idempotency-Key"));
    // The retry is part of the checkout's one trace, which the order's
    // payment joins later (the browser records no span: flag 00).
    const [a, b] = sent.map((r) => /^00-([0-9a-f]{32})-([0-9a-f]{16})-00$/.exec(r.headers.get("traceparent") ?? ""));
    expect(a).not.toBeNull();
    expect(b?.[1]).toBe(a?.[1]);
    expect(b?.[2]).not.toBe(a?.[2]);
    expect(orderTrace(order().id)).toBe(a?.[1]);
  });
});
