import { useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useParams } from "react-router-dom";
import { errorMessage, formatDateTime, isProblem, queryKeys, unwrap, watchOrder, type Order, type OrderProgress, type Payment } from "@shop/shared";
import { useApi, useAuth, usePageTitle } from "@shop/shared/react";
import { Alert, Badge, Button, Dialog, ErrorState, Loading, Money, StatusBadge, TextAreaField, TextField, useFieldErrors } from "@shop/shared/ui";
import { dlqServices, listDeadLetters } from "../dlq/dlq";
import { Timeline } from "./Timeline";
import { buildTimeline, type DeadLetterOf } from "./timeline";
import { traceTemplate, traceUrl } from "./trace";

/** One order: its lines, payment, reservation, the actions its status allows, and its saga live. */
export function OrderPage() {
  const { id = "" } = useParams();
  usePageTitle(`Order ${id.slice(0, 8)}`, "Shop admin");
  const api = useApi();
  const qc = useQueryClient();
  const { user } = useAuth();
  const isAdmin = user?.role === "ADMIN";
  const order = useQuery({ queryKey: queryKeys.order(id), queryFn: () => unwrap(api.order.GET("/api/v1/orders/{id}", { params: { path: { id } } })) });
  const payment = useQuery({
    queryKey: queryKeys.payment(id),
    queryFn: async () => (await unwrap(api.payment.GET("/api/v1/payments", { params: { query: { orderId: id } } }))).items[0] ?? null,
    enabled: isAdmin,
  });
  const reservation = useQuery({
    queryKey: queryKeys.reservation(id),
    queryFn: () => unwrap(api.inventory.GET("/api/v1/inventory/reservations/{orderId}", { params: { path: { orderId: id } } })).catch((e: unknown) => {
      if (isProblem(e) && e.status === 404) return null;
      throw e;
    }),
    enabled: isAdmin,
  });
  // The dead letters of this order in every consuming service (admins).
  const dlq = useQueries({
    queries: dlqServices.map((service) => ({
      queryKey: queryKeys.deadLetters(service, { order_id: id }),
      queryFn: async () => (await listDeadLetters(api, service, { order_id: id })).entries.map((entry): DeadLetterOf => ({ service, entry })),
      enabled: isAdmin,
    })),
  });

  // The saga live: the progress stream, whole progress per event; a
  // progress never replaces a newer one.
  const [progress, setProgress] = useState<OrderProgress>();
  const [mode, setMode] = useState<"live" | "polling" | "ended">();
  const version = useRef(-1);
  useEffect(() => {
    version.current = -1;
    setProgress(undefined);
    return watchOrder(id, {
      baseUrl: api.baseUrl,
      fetch: api.fetch,
      onProgress: (p) => {
        if (p.version <= version.current) return;
        version.current = p.version;
        setProgress(p);
        qc.setQueryData(queryKeys.order(id), (old: Order | undefined) => (old ? { ...old, ...p.order, items: old.items } : old));
        void qc.invalidateQueries({ queryKey: queryKeys.payment(id) });
        void qc.invalidateQueries({ queryKey: queryKeys.reservation(id) });
      },
      onMode: setMode,
    });
  }, [api, id, qc]);

  if (order.isPending) return <Loading label="Loading the order…" />;
  if (order.isError) return <ErrorState error={order.error} title={isProblem(order.error) && order.error.status === 404 ? "No such order" : undefined} />;
  const o = order.data;
  const p = payment.data ?? undefined;
  const letters = dlq.flatMap((q) => q.data ?? []);
  const items = buildTimeline(progress?.timeline ?? [], p, letters);
  const trace = isAdmin ? traceUrl(traceTemplate(), { orderId: o.id }) : undefined;
  return (
    <>
      <div className="page-head">
        <h1>Order <span className="id">{o.id.slice(0, 8)}</span></h1>
        <StatusBadge status={progress?.order.status ?? o.status} />
      </div>
      <p className="muted">
        Placed {formatDateTime(o.created_at)} by customer <code className="id">{o.user_id}</code>
        {o.cancel_reason && <> · cancelled: <strong>{o.cancel_reason}</strong></>}
        {trace && <> · <a href={trace} target="_blank" rel="noreferrer">Its trace across the services</a></>}
      </p>
      <Actions order={{ ...o, ...(progress?.order ?? {}) }} payment={p} isAdmin={isAdmin} />
      <div className="detail-grid">
        <section className="card detail-grid__full" aria-labelledby="lines-title">
          <h2 id="lines-title">Lines</h2>
          <table className="table">
            <thead><tr><th scope="col">Product</th><th scope="col" className="num">Qty</th><th scope="col" className="num">Price</th><th scope="col" className="num">Total</th></tr></thead>
            <tbody>
              {(o.items ?? []).map((l) => (
                <tr key={l.product_id}>
                  <td>{l.name}<br /><span className="muted small">{l.sku}</span></td>
                  <td className="num">{l.quantity}</td>
                  <td className="num"><Money minor={l.unit_price.amount_minor} currency={l.unit_price.currency} /></td>
                  <td className="num"><Money minor={l.line_total.amount_minor} currency={l.line_total.currency} /></td>
                </tr>
              ))}
            </tbody>
            <tfoot><tr><th scope="row" colSpan={3}>Total</th><td className="num"><Money minor={o.total.amount_minor} currency={o.total.currency} /></td></tr></tfoot>
          </table>
        </section>
        {isAdmin && (
          <section className="card" aria-labelledby="payment-title">
            <h2 id="payment-title">Payment</h2>
            {payment.isPending ? <Loading /> : !p ? <p className="muted">No payment: the saga never created one.</p> : <PaymentFacts p={p} />}
          </section>
        )}
        {isAdmin && (
          <section className="card" aria-labelledby="reservation-title">
            <h2 id="reservation-title">Reservation</h2>
            {reservation.isPending ? <Loading /> : !reservation.data ? <p className="muted">Inventory holds no reservation for this order.</p> : (
              <dl className="facts">
                <div><dt>Status</dt><dd><Badge tone={reservation.data.status === "ACTIVE" ? "info" : reservation.data.status === "CONFIRMED" ? "success" : "neutral"}>{reservation.data.status}</Badge>{reservation.data.placeholder && " (a record of the outcome; it held no stock)"}</dd></div>
                <div><dt>Expires</dt><dd>{formatDateTime(reservation.data.expires_at)}</dd></div>
                {reservation.data.reason && <div><dt>Reason</dt><dd>{reservation.data.reason}</dd></div>}
                <div><dt>Restocked</dt><dd>{reservation.data.restocked ? "yes" : "no"}</dd></div>
              </dl>
            )}
          </section>
        )}
      </div>
      {progress ? <Timeline items={items} live={mode} /> : <Loading label="Loading the saga timeline…" />}
    </>
  );
}

function PaymentFacts({ p }: { p: Payment }) {
  return (
    <>
      <dl className="facts">
        <div><dt>Status</dt><dd><Badge tone={p.status === "SUCCEEDED" ? "success" : p.status === "FAILED" ? "danger" : p.status.includes("REFUNDED") ? "warning" : "neutral"}>{p.status}</Badge></dd></div>
        <div><dt>Amount</dt><dd><Money minor={p.amount_minor} currency={p.currency} /></dd></div>
        <div><dt>Refunded</dt><dd><Money minor={p.refunded_minor} currency={p.currency} /></dd></div>
        <div><dt>Attempts</dt><dd>{p.attempts}{p.card_last4 && ` (card ending ${p.card_last4})`}</dd></div>
        {p.failure_reason && <div><dt>Last failure</dt><dd>{p.failure_reason}</dd></div>}
        {p.void_reason && <div><dt>Voided</dt><dd>{p.void_reason}</dd></div>}
      </dl>
      {p.refunds.length > 0 && (
        <>
          <h3>Refunds</h3>
          <ul className="refunds">
            {p.refunds.map((r) => (
              <li key={r.id}>
                <Money minor={r.amount_minor} currency={r.currency} /> · {r.reason} · {formatDateTime(r.created_at)} ·{" "}
                {r.created_by ? <>by admin <code className="id">{r.created_by.slice(0, 8)}</code></> : "automatic (order cancelled)"}
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}

/** The actions the order's status allows the user. */
function Actions({ order, payment, isAdmin }: { order: Order; payment?: Payment; isAdmin: boolean }) {
  const api = useApi();
  const qc = useQueryClient();
  const [dialog, setDialog] = useState<"cancel" | "refund" | null>(null);
  const [note, setNote] = useState("");
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("CUSTOMER_REQUEST");
  const [refundKey, setRefundKey] = useState(() => crypto.randomUUID());
  const done = () => {
    void qc.invalidateQueries({ queryKey: ["order"] });
    void qc.invalidateQueries({ queryKey: queryKeys.payment(order.id) });
  };
  const fulfil = useMutation({
    mutationFn: (what: "ship" | "deliver") =>
      unwrap(what === "ship"
        ? api.order.POST("/api/v1/orders/{id}/ship", { params: { path: { id: order.id } } })
        : api.order.POST("/api/v1/orders/{id}/deliver", { params: { path: { id: order.id } } })),
    onSuccess: done,
  });
  const cancel = useMutation({
    mutationFn: () => unwrap(api.order.POST("/api/v1/orders/{id}/cancel", { params: { path: { id: order.id } }, body: note.trim() ? { note: note.trim() } : {} })),
    onSuccess: () => {
      setDialog(null);
      done();
    },
  });
  const remaining = payment ? payment.amount_minor - payment.refunded_minor : 0;
  const refund = useMutation({
    mutationFn: () => {
      const minor = amount.trim() ? Math.round(Number(amount.replace(",", ".")) * 100) : undefined;
      return unwrap(api.payment.POST("/api/v1/payments/refund", {
        params: { header: { "Idempotency-Key": refundKey } },
        body: { payment_id: payment!.id, reason, ...(minor ? { amount_minor: minor } : {}) },
      }));
    },
    onSuccess: () => {
      setDialog(null);
      setAmount("");
      setRefundKey(crypto.randomUUID());
      done();
    },
  });
  const refundErrors = useFieldErrors(refund.error, ["amount_minor", "reason"]);
  const canCancel = isAdmin && ["CREATED", "PAYMENT_PENDING", "PAID"].includes(order.status);
  const canRefund = isAdmin && !!payment && ["SUCCEEDED", "PARTIALLY_REFUNDED"].includes(payment.status) && remaining > 0 && order.status !== "CANCELLED";
  const error = fulfil.error ?? cancel.error;
  return (
    <div className="actions" role="group" aria-label="Actions">
      {order.status === "PAID" && <Button busy={fulfil.isPending} onClick={() => fulfil.mutate("ship")}>Mark shipped</Button>}
      {order.status === "SHIPPED" && <Button busy={fulfil.isPending} onClick={() => fulfil.mutate("deliver")}>Mark delivered</Button>}
      {canCancel && <Button variant="danger" onClick={() => setDialog("cancel")}>Cancel order</Button>}
      {canRefund && <Button variant="secondary" onClick={() => setDialog("refund")}>Refund…</Button>}
      {error && <Alert tone="error" title="That did not work">{errorMessage(error)}</Alert>}
      <Dialog open={dialog === "cancel"} title="Cancel this order?" onClose={() => setDialog(null)}
        actions={<Button variant="danger" busy={cancel.isPending} onClick={() => cancel.mutate()}>Cancel the order</Button>}>
        <p>
          {order.status === "PAID"
            ? "The order is paid: cancelling refunds the payment in full and returns the units to stock."
            : "The stock it holds is released and its payment voided; nothing is charged."}
        </p>
        <TextAreaField label="Note for the timeline (optional)" value={note} maxLength={500} onChange={(e) => setNote(e.target.value)} />
        {cancel.error && <Alert tone="error" title="Could not cancel">{errorMessage(cancel.error)}</Alert>}
      </Dialog>
      <Dialog open={dialog === "refund"} title="Refund the payment" onClose={() => setDialog(null)}
        actions={<Button busy={refund.isPending} onClick={() => refund.mutate()}>Refund</Button>}>
        {payment && <p>Up to <Money minor={remaining} currency={payment.currency} /> can be refunded. Leave the amount empty to refund all of it.</p>}
        <TextField label={`Amount (${payment?.currency ?? ""})`} inputMode="decimal" value={amount} error={refundErrors.byField.amount_minor} onChange={(e) => setAmount(e.target.value)} />
        <TextField label="Reason code" value={reason} error={refundErrors.byField.reason} onChange={(e) => setReason(e.target.value.toUpperCase())} hint="Upper case, e.g. DAMAGED, RETURNED, GOODWILL" />
        {refundErrors.rest !== undefined && refundErrors.rest !== null && <Alert tone="error" title="Could not refund">{errorMessage(refundErrors.rest)}</Alert>}
      </Dialog>
    </div>
  );
}
