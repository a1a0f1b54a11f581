import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { FakeServer, json, problem } from "../../../../shared/src/test/fakeServer";
import { me, renderApp } from "../../test/render";
import { rememberOrderTrace } from "../checkout/trace";

const O = "33333333-3333-4333-8333-333333333333";
const PAY = "44444444-4444-4444-8444-444444444444";
const TRACE = "0af7651916cd43dd8448eb211c80319c";

describe("paying an order", () => {
  it("shows why a card was declined next to the card, and takes another card", async () => {
    const progress = {
      version: 3,
      order: {
        id: O, user_id: me.id, status: "PAYMENT_PENDING", total: { amount_minor: 4990, currency: "EUR" }, item_count: 1,
        items: [{ product_id: "p", sku: "S", name: "Stove", quantity: 1, unit_price: { amount_minor: 4990, currency: "EUR" }, line_total: { amount_minor: 4990, currency: "EUR" } }],
        created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", status_changed_at: "2026-01-01T00:00:00Z",
      },
      reservation_expires_at: new Date(Date.now() + 10 * 60_000).toISOString(),
      timeline: [],
    };
    const server = new FakeServer()
      .on("GET /api/v1/users/me", () => json(me))
      .on(`GET /api/v1/orders/${O}/progress`, () => json(progress))
      .on(`GET /api/v1/orders/${O}/events`, () => new Response("", { status: 503 }))
      .on("GET /api/v1/payments", () => json({ items: [{ id: PAY, order_id: O, user_id: me.id, amount_minor: 4990, currency: "EUR", status: "PENDING", refunded_minor: 0, attempts: 0, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", refunds: [] }] }))
      .on("POST /api/v1/payments/confirm", (_req, n) =>
        n === 1 ? problem(402, "card-declined", "Card declined", "payment declined (CARD_DECLINED)") : json({ id: PAY, status: "SUCCEEDED" }),
      );
    rememberOrderTrace(O, TRACE);
    renderApp(`/orders/${O}`, server, { signedIn: true });

    expect(await screen.findByText(/Your items are held for/)).toHaveTextContent(/\d+:\d\d/);
    const card = await screen.findByLabelText("Card number");
    await userEvent.type(card, "4000000000000002");
    await userEvent.click(screen.getByRole("button", { name: "Pay now" }));

    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Your card was declined");
    expect(alert).toHaveTextContent("You can try another card while your items are held.");
    expect(card).toHaveAttribute("aria-invalid", "true");
    expect(card).toHaveAccessibleDescription("This card did not go through.");

    await userEvent.clear(card);
    await userEvent.type(card, "4242424242424242");
    await userEvent.click(screen.getByRole("button", { name: "Pay now" }));
    await screen.findByText("Payment received");
    const sent = server.sent("POST /api/v1/payments/confirm");
    expect(sent).toHaveLength(2);
    expect(sent[1].headers.get("Idempotency-Key")).not.toBe(sent[0].headers.get("Idempotency-Key"));
    expect(await sent[1].json()).toEqual({ payment_id: PAY, card_number: "4242424242424242" });
    // Placed in this tab: the payment joins the order's trace.
    for (const r of sent) expect(r.headers.get("traceparent")).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-00$`));
  });
});
