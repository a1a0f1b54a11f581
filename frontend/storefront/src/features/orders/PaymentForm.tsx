import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { errorMessage, isProblem, queryKeys, unwrap } from "@shop/shared";
import { Alert, Button, Loading, TextField } from "@shop/shared/ui";
import { useApi } from "../../api";
import { orderTrace, traceHeaders } from "../checkout/trace";

export const testCards = [
  { number: "4242 4242 4242 4242", outcome: "pays" },
  { number: "4000 0000 0000 0002", outcome: "is declined (card declined)" },
  { number: "4000 0000 0000 9995", outcome: "is declined (insufficient funds)" },
  { number: "4000 0000 0000 0119", outcome: "times out twice, then pays" },
];

/** What a refused charge means for the shopper, by problem type. */
const refusals: Record<string, { title: string; text: string }> = {
  "card-declined": { title: "Your card was declined", text: "The bank refused this card. You can try another card while your items are held." },
  "insufficient-funds": { title: "Your card was declined", text: "The card has insufficient funds. You can try another card while your items are held." },
  "gateway-timeout": { title: "The payment did not go through", text: "The card network did not answer, so the order was cancelled. Nothing was charged." },
  "gateway-error": { title: "The payment did not go through", text: "The card network failed, so the order was cancelled. Nothing was charged." },
};

/** The payment that the saga creates once the stock is reserved (long poll). */
function usePayment(orderId: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.payment(orderId),
    queryFn: ({ signal }) =>
      unwrap(
        api.payment.GET("/api/v1/payments", {
          params: { query: { orderId }, header: { Prefer: "wait=10" } },
          signal,
        }),
      ),
    refetchInterval: (q) => (q.state.data && q.state.data.items.length === 0 ? 500 : false),
  });
}

export function PaymentForm({ orderId }: { orderId: string }) {
  const api = useApi();
  const qc = useQueryClient();
  const payment = usePayment(orderId);
  const [card, setCard] = useState("");
  const confirm = useMutation({
    mutationFn: (paymentId: string) =>
      unwrap(
        api.payment.POST("/api/v1/payments/confirm", {
          // Each card tried is its own operation: its own key.
          params: { header: { "Idempotency-Key": crypto.randomUUID() } },
          // In the trace the order was placed in: one trace to PAID.
          headers: traceHeaders(orderTrace(orderId)),
          body: { payment_id: paymentId, card_number: card },
        }),
      ),
    onSettled: () => qc.invalidateQueries({ queryKey: queryKeys.payment(orderId) }),
  });
  if (payment.isPending) return <Loading label="Preparing your payment…" />;
  if (payment.isError) return <Alert tone="error" title="The payment could not be loaded">{errorMessage(payment.error)}</Alert>;
  const p = payment.data.items[0];
  if (!p) return <Loading label="Preparing your payment…" />;
  if (p.status === "SUCCEEDED" || confirm.isSuccess) {
    return <Alert tone="success" title="Payment received">Your card was charged. The order turns paid in a moment.</Alert>;
  }
  if (p.status !== "PENDING") return null;

  const declined = confirm.error;
  const refusal = isProblem(declined) && declined.status === 402 ? (refusals[declined.slug] ?? refusals["card-declined"]) : undefined;
  const cardError = isProblem(declined) ? (declined.fields.card_number ?? (refusal ? "This card did not go through." : undefined)) : undefined;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    confirm.mutate(p.id);
  };
  return (
    <section className="payment card" aria-labelledby="pay-title">
      <h2 id="pay-title">Pay</h2>
      {refusal && (
        <Alert tone="error" title={refusal.title}>
          {refusal.text}
        </Alert>
      )}
      {declined && !(isProblem(declined) && (declined.status === 402 || declined.fields.card_number)) && (
        <Alert tone="error" title="The payment did not go through">{errorMessage(declined)}</Alert>
      )}
      <form onSubmit={submit} noValidate>
        <TextField label="Card number" inputMode="numeric" autoComplete="cc-number" value={card} required
          error={cardError} onChange={(e) => setCard(e.target.value)} />
        <Button type="submit" busy={confirm.isPending} disabled={card.trim() === ""}>
          Pay now
        </Button>
      </form>
      <details className="test-cards" open>
        <summary>Test cards</summary>
        <p className="muted">This shop uses a simulated card gateway: the card number alone decides what happens.</p>
        <ul>
          {testCards.map((c) => (
            <li key={c.number}>
              <code>{c.number}</code> {c.outcome}
            </li>
          ))}
        </ul>
      </details>
    </section>
  );
}
