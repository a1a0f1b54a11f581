import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { errorMessage, isProblem, queryKeys, unwrap, type OrderProgress } from "@shop/shared";
import { Alert, Button, ErrorState, Loading, Money, StatusBadge, statusLabel } from "@shop/shared/ui";
import { useApi } from "../../api";
import { usePageTitle } from "../../layout/usePageTitle";
import { Countdown } from "./Countdown";
import { PaymentForm } from "./PaymentForm";
import { orderSteps, type Step } from "./steps";
import { Timeline } from "./Timeline";
import { useOrderProgress, type LiveMode } from "./useOrderProgress";

const stateText: Record<Step["state"], string> = { done: "done", current: "in progress", todo: "to come", failed: "did not happen", stopped: "the order ended here" };

function Steps({ progress }: { progress: OrderProgress }) {
  const steps = orderSteps(progress);
  return (
    <ol className="steps" aria-label="Order progress">
      {steps.map((s) => (
        <li key={s.key} className={`step step--${s.state}`} aria-current={s.state === "current" ? "step" : undefined}>
          <span className="step__dot" aria-hidden="true" />
          <span className="step__label">{s.label}</span>
          <span className="visually-hidden"> ({stateText[s.state]})</span>
          {s.detail && <span className="step__detail">{s.detail}</span>}
        </li>
      ))}
    </ol>
  );
}

function LiveNote({ mode }: { mode: LiveMode }) {
  if (mode === "live") return <p className="live live--on">Live: updates as they happen</p>;
  if (mode === "polling") return <p className="live">Checking for updates every few seconds</p>;
  return null;
}

function CancelOrder({ id }: { id: string }) {
  const api = useApi();
  const qc = useQueryClient();
  const [asking, setAsking] = useState(false);
  const cancel = useMutation({
    mutationFn: () => unwrap(api.order.POST("/api/v1/orders/{id}/cancel", { params: { path: { id } } })),
    onSuccess: () => {
      setAsking(false);
      void qc.invalidateQueries({ queryKey: queryKeys.progress(id) });
      void qc.invalidateQueries({ queryKey: ["order", "list"] });
    },
  });
  return (
    <div className="cancel">
      {cancel.isError && <Alert tone="error" title="The order was not cancelled">{errorMessage(cancel.error)}</Alert>}
      {asking ? (
        <div role="group" aria-label="Confirm cancellation" className="cancel__confirm">
          <p>Cancel this order? Anything paid is refunded.</p>
          <Button variant="danger" busy={cancel.isPending} onClick={() => cancel.mutate()}>Yes, cancel the order</Button>
          <Button variant="secondary" onClick={() => setAsking(false)}>Keep it</Button>
        </div>
      ) : (
        <Button variant="danger" onClick={() => setAsking(true)}>Cancel order</Button>
      )}
    </div>
  );
}

export function OrderPage() {
  const { id = "" } = useParams();
  const progress = useOrderProgress(id);
  const p = progress.data;
  usePageTitle(p ? `Order ${statusLabel(p.order.status).toLowerCase()}` : "Order");
  if (progress.isPending) return <Loading label="Loading your order…" />;
  if (progress.isError) {
    if (isProblem(progress.error) && progress.error.status === 404) {
      return <ErrorState title="Order not found" error={progress.error} />;
    }
    return <ErrorState error={progress.error} onRetry={() => progress.refetch()} />;
  }
  const o = p!.order;
  const waiting = o.status === "CREATED" || o.status === "PAYMENT_PENDING";
  return (
    <article className="order">
      <p className="breadcrumb">
        <Link to="/orders">Your orders</Link>
      </p>
      <header className="order__head">
        <h1>
          Order <span className="mono">{o.id.slice(-8).toUpperCase()}</span>
        </h1>
        <StatusBadge status={o.status} />
      </header>
      <div className="visually-hidden" aria-live="polite" aria-atomic="true">
        Order status: {statusLabel(o.status)}
      </div>
      <div className="order__layout">
        <div className="order__main">
          <section className="card" aria-labelledby="progress-title">
            <h2 id="progress-title">Progress</h2>
            <Steps progress={p!} />
            {waiting && <LiveNote mode={progress.mode} />}
            {waiting && p!.reservation_expires_at && <Countdown until={p!.reservation_expires_at} />}
            {o.status === "PAID" && <Alert tone="success" title="Paid">Thank you! Your order is paid and will be shipped soon.</Alert>}
          </section>
          {o.status === "PAYMENT_PENDING" && <PaymentForm orderId={o.id} />}
        </div>
        <aside className="order__side">
          <section className="card" aria-labelledby="items-title">
            <h2 id="items-title">Items</h2>
            <ul className="order-items">
              {(o.items ?? []).map((it) => (
                <li key={it.product_id}>
                  <span>
                    {it.quantity} × <Link to={`/products/${it.product_id}`}>{it.name}</Link>
                  </span>
                  <Money minor={it.line_total.amount_minor} currency={it.line_total.currency} />
                </li>
              ))}
            </ul>
            <p className="order-total">
              <span>Total</span> <Money minor={o.total.amount_minor} currency={o.total.currency} />
            </p>
          </section>
          <section className="card" aria-labelledby="history-title">
            <h2 id="history-title">History</h2>
            <Timeline entries={p!.timeline} />
          </section>
          {(waiting || o.status === "PAID") && <CancelOrder id={o.id} />}
        </aside>
      </div>
    </article>
  );
}
