import type { OrderProgress } from "@shop/shared";

export type StepState = "done" | "current" | "todo" | "failed" | "stopped";

export interface Step {
  key: string;
  label: string;
  state: StepState;
  detail?: string;
}

export const cancelReasons: Record<string, string> = {
  OUT_OF_STOCK: "Some items were out of stock, so nothing was reserved or charged.",
  PAYMENT_FAILED: "The payment did not go through. Nothing was charged.",
  RESERVATION_EXPIRED: "The reservation expired before the order was paid. Nothing was charged.",
  CUSTOMER_REQUEST: "You cancelled this order.",
  ADMIN: "The shop cancelled this order.",
  SAGA_TIMEOUT: "The shop could not confirm the stock in time. Nothing was charged.",
};

export function cancelText(reason: string | undefined): string {
  return (reason && cancelReasons[reason]) || "This order was cancelled.";
}

/**
 * orderSteps turns the progress into the steps a shopper follows:
 * placed → stock reserved → payment → paid (→ shipped → delivered), or the
 * step at which it was cancelled, and why.
 */
export function orderSteps(p: OrderProgress): Step[] {
  const s = p.order.status;
  const seen = (type: string) => p.timeline.some((e) => e.event?.type === type);
  const reached = (to: string) => p.timeline.some((e) => e.kind === "TRANSITION" && e.to === to);
  const reserved = seen("INVENTORY_RESERVED") || reached("PAYMENT_PENDING");
  const paid = reached("PAID");
  const steps: Step[] = [{ key: "placed", label: "Order placed", state: "done" }];
  if (s === "CANCELLED") {
    steps.push({ key: "reserved", label: "Stock reserved", state: reserved ? "done" : "failed" });
    if (reserved) steps.push({ key: "paid", label: "Payment", state: paid ? "done" : "failed" });
    steps.push({ key: "cancelled", label: "Cancelled", state: "stopped", detail: cancelText(p.order.cancel_reason) });
    return steps;
  }
  steps.push({ key: "reserved", label: "Stock reserved", state: reserved ? "done" : "current", detail: reserved ? undefined : "Reserving your items…" });
  steps.push({
    key: "payment",
    label: paid ? "Paid" : "Awaiting payment",
    state: paid ? "done" : reserved ? "current" : "todo",
  });
  if (paid) {
    steps.push({ key: "shipped", label: "Shipped", state: s === "SHIPPED" || s === "DELIVERED" ? "done" : "todo" });
    steps.push({ key: "delivered", label: "Delivered", state: s === "DELIVERED" ? "done" : "todo" });
  }
  return steps;
}
