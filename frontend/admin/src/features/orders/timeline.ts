// The saga timeline across services: the order's own timeline (every
// transition and every saga event it saw), with what the payment and the
// dead-letter queues add (declined cards, refunds by whom, events that
// failed and were replayed). Each step says which service acted, who or
// which event caused it, and its outcome; compensations and retries are
// marked as such.
import type { DeadLetter, Payment, TimelineEntry } from "@shop/shared";

export type Outcome = "progress" | "success" | "compensation" | "retry" | "failure" | "ignored";
export type Stage = "Placement" | "Stock" | "Payment" | "Fulfilment" | "Cancellation" | "Delivery problems";
export type ServiceName = "order" | "inventory" | "payment" | "catalog" | "identity";

export interface TimelineItem {
  key: string;
  at: string;
  stage: Stage;
  service: ServiceName;
  outcome: Outcome;
  title: string;
  /** Who asked, or which service reacted to which event. */
  who: string;
  event?: { type: string; id: string };
  emitted?: { type: string; id: string };
  note?: string;
  details: [string, string][];
}

export const outcomeLabels: Record<Outcome, string> = {
  progress: "Progress",
  success: "Done",
  compensation: "Compensation",
  retry: "Retry",
  failure: "Failure",
  ignored: "Ignored",
};

const stageOrder: Stage[] = ["Placement", "Stock", "Payment", "Fulfilment", "Cancellation", "Delivery problems"];

/** serviceOf names the service that publishes an event type. */
export function serviceOf(eventType: string): ServiceName {
  if (eventType.startsWith("INVENTORY_") || eventType === "RESERVATION_EXPIRED") return "inventory";
  if (eventType.startsWith("PAYMENT_")) return "payment";
  if (eventType.startsWith("PRODUCT_")) return "catalog";
  if (eventType.startsWith("USER_")) return "identity";
  return "order";
}

const reasons: Record<string, string> = {
  CUSTOMER_REQUEST: "the customer asked",
  ADMIN: "an administrator cancelled it",
  OUT_OF_STOCK: "out of stock",
  PAYMENT_FAILED: "the payment failed",
  RESERVATION_EXPIRED: "the reservation expired before payment",
  SAGA_TIMEOUT: "inventory never answered (saga timeout)",
};

function who(e: TimelineEntry): string {
  if (e.actor) return `${(e.actor.role ?? "user").toLowerCase()} ${e.actor.id.slice(0, 8)}`;
  if (e.event) return `${serviceOf(e.event.type)} service (${e.event.type})`;
  return "order service";
}

function details(d: Record<string, string> | undefined): [string, string][] {
  if (!d) return [];
  const out = Object.entries(d)
    .filter(([k]) => !k.startsWith("short:") && k !== "amount_minor" && k !== "amount_currency")
    .sort(([a], [b]) => a.localeCompare(b));
  // Money as money: the event's amount and currency in one.
  if (d.amount_minor) out.unshift(["amount", money(Number(d.amount_minor), d.amount_currency)]);
  return out;
}

/** fromEntry turns one of the order's timeline entries into an item. */
export function fromEntry(e: TimelineEntry, i: number, refundsBy: Map<string, string>): TimelineItem {
  const base = {
    key: `t${i}`,
    at: e.at,
    who: who(e),
    event: e.event ? { type: e.event.type, id: e.event.id } : undefined,
    emitted: e.emitted ? { type: e.emitted.type, id: e.emitted.id } : undefined,
    note: e.note || undefined,
    details: details(e.detail),
  };
  const type = e.event?.type ?? "";
  const shorts = Object.entries(e.detail ?? {}).filter(([k]) => k.startsWith("short:"))
    .map(([k, v]) => [`short of ${k.slice(6, 14)}`, v] as [string, string]);
  if (e.kind === "IGNORED") {
    return { ...base, stage: stageFor(type), service: serviceOf(type), outcome: "ignored", title: `${type || "Event"} ignored: ${e.reason ?? "late"}` };
  }
  if (e.kind === "TRANSITION") {
    switch (e.to) {
      case "CREATED":
        return { ...base, stage: "Placement", service: "order", outcome: "progress", title: "Order placed" };
      case "PAYMENT_PENDING":
        return { ...base, stage: "Stock", service: "inventory", outcome: "success", title: `Stock reserved${e.detail?.expires_at ? ` until ${new Date(e.detail.expires_at).toLocaleTimeString()}` : ""}` };
      case "PAID":
        return { ...base, stage: "Payment", service: "payment", outcome: "success", title: "Paid" };
      case "SHIPPED":
        return { ...base, stage: "Fulfilment", service: "order", outcome: "success", title: "Shipped" };
      case "DELIVERED":
        return { ...base, stage: "Fulfilment", service: "order", outcome: "success", title: "Delivered" };
      case "CANCELLED": {
        const why = reasons[e.reason ?? ""] ?? e.reason ?? "";
        const service = e.event ? serviceOf(type) : "order";
        return { ...base, details: [...base.details, ...shorts], stage: "Cancellation", service, outcome: "failure", title: `Cancelled: ${why}` };
      }
    }
  }
  // A saga event that changed no status.
  switch (type) {
    case "PAYMENT_INITIATED":
      return { ...base, stage: "Payment", service: "payment", outcome: "progress", title: "Payment created, waiting for the customer" };
    case "INVENTORY_CONFIRMED":
      return { ...base, stage: "Stock", service: "inventory", outcome: "success", title: "Reserved stock sold" };
    case "INVENTORY_RELEASED": {
      const why = e.detail?.inventory_reason ? ` (${e.detail.inventory_reason})` : "";
      return { ...base, stage: "Cancellation", service: "inventory", outcome: "compensation", title: `Stock released${why}` };
    }
    case "PAYMENT_VOIDED":
      return { ...base, stage: "Cancellation", service: "payment", outcome: "compensation", title: "Payment voided (nothing was charged)" };
    case "PAYMENT_REFUNDED": {
      const by = refundsBy.get(e.detail?.refund_id ?? "");
      const amount = e.detail?.amount_minor ? ` ${money(Number(e.detail.amount_minor), e.detail.amount_currency)}` : "";
      const stage: Stage = e.from === "CANCELLED" ? "Cancellation" : "Delivery problems";
      return { ...base, who: by ? `admin ${by.slice(0, 8)}` : base.who, stage, service: "payment", outcome: "compensation", title: `Refunded${amount}` };
    }
  }
  return { ...base, stage: stageFor(type), service: serviceOf(type), outcome: "progress", title: e.reason || type || "Event" };
}

function stageFor(type: string): Stage {
  const s = serviceOf(type);
  return s === "inventory" ? "Stock" : s === "payment" ? "Payment" : "Placement";
}

function money(minor: number, currency = "EUR"): string {
  return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(minor / 100);
}

export interface DeadLetterOf {
  service: ServiceName;
  entry: DeadLetter;
}

/**
 * buildTimeline merges the order's timeline with what payment and the
 * dead-letter queues know of the order, oldest first.
 */
export function buildTimeline(entries: readonly TimelineEntry[], payment?: Payment, deadLetters: readonly DeadLetterOf[] = []): TimelineItem[] {
  const refundsBy = new Map((payment?.refunds ?? []).filter((r) => r.created_by).map((r) => [r.id, r.created_by!] as [string, string]));
  const items = entries.map((e, i) => fromEntry(e, i, refundsBy));
  // Declined cards: the payment stayed open and another card was tried.
  if (payment && (payment.failure_reason === "CARD_DECLINED" || payment.failure_reason === "INSUFFICIENT_FUNDS")) {
    const paid = items.find((x) => x.title === "Paid");
    const declined = payment.status === "PENDING" ? payment.attempts : payment.attempts - 1;
    if (declined > 0) {
      const at = paid ? new Date(new Date(paid.at).getTime() - 1).toISOString() : payment.updated_at;
      items.push({
        key: "declined", at, stage: "Payment", service: "payment", outcome: "retry", who: "customer",
        title: `Card declined (${payment.failure_reason})${paid ? ", paid with another card" : ", waiting for another card"}`,
        details: [["attempts", String(payment.attempts)]],
      });
    }
  }
  for (const { service, entry } of deadLetters) {
    items.push({
      key: `dlq-${service}-${entry.offset}`, at: entry.failed_at, stage: stageFor(entry.event_type), service, outcome: "failure",
      who: `${service} consumer`, event: { type: entry.event_type, id: entry.event_id },
      title: `${entry.event_type} dead-lettered in ${service} (${entry.cause})`,
      details: [["error", entry.error], ["attempts", String(entry.attempts)], ["DLQ offset", String(entry.offset)]],
    });
    for (const [j, r] of (entry.replays ?? []).entries()) {
      items.push({
        key: `dlq-${service}-${entry.offset}-r${j}`, at: r.at, stage: stageFor(entry.event_type), service, outcome: "retry",
        who: `admin ${r.by.slice(0, 8)}`, event: { type: entry.event_type, id: entry.event_id },
        title: `${entry.event_type} replayed to ${r.target_topic ?? `${service}.retry`} (${r.outcome})`, details: [],
      });
    }
  }
  return items.sort((a, b) => a.at.localeCompare(b.at));
}

export interface StageGroup {
  stage: Stage;
  items: TimelineItem[];
  /** The worst outcome in the group, for its colour. */
  outcome: Outcome;
}

const severity: Outcome[] = ["progress", "success", "ignored", "retry", "compensation", "failure"];

/** groupByStage groups the items by saga stage, stages in saga order, items oldest first. */
export function groupByStage(items: readonly TimelineItem[]): StageGroup[] {
  const out: StageGroup[] = [];
  for (const stage of stageOrder) {
    const its = items.filter((x) => x.stage === stage);
    if (its.length === 0) continue;
    const outcome = its.reduce<Outcome>((w, x) => (severity.indexOf(x.outcome) > severity.indexOf(w) ? x.outcome : w), "progress");
    out.push({ stage, items: its, outcome });
  }
  return out;
}
