import type { OrderStatus } from "../api/types";

const labels: Record<OrderStatus, string> = {
  CREATED: "Placed",
  PAYMENT_PENDING: "Awaiting payment",
  PAID: "Paid",
  SHIPPED: "Shipped",
  DELIVERED: "Delivered",
  CANCELLED: "Cancelled",
};

export function statusLabel(s: OrderStatus): string {
  return labels[s] ?? s;
}

export function StatusBadge({ status }: { status: OrderStatus }) {
  return <span className={`ui-badge ui-badge--${status.toLowerCase()}`}>{statusLabel(status)}</span>;
}
