import type { TimelineEntry } from "@shop/shared";
import { statusLabel } from "@shop/shared/ui";

const eventText: Record<string, string> = {
  INVENTORY_RESERVED: "Stock reserved",
  INVENTORY_REJECTED: "Stock not available",
  INVENTORY_CONFIRMED: "Stock confirmed",
  INVENTORY_RELEASED: "Stock released",
  RESERVATION_EXPIRED: "Reservation expired",
  PAYMENT_INITIATED: "Payment prepared",
  PAYMENT_SUCCESS: "Payment received",
  PAYMENT_FAILED: "Payment failed",
  PAYMENT_REFUNDED: "Payment refunded",
  PAYMENT_VOIDED: "Payment voided",
};

export function entryText(e: TimelineEntry): string {
  if (e.kind === "TRANSITION") return e.from ? `${statusLabel(e.from)} → ${statusLabel(e.to)}` : "Order placed";
  const t = e.event?.type;
  return (t && eventText[t]) || t || e.kind;
}

/** The order's history, oldest first; ignored late events are left out. */
export function Timeline({ entries }: { entries: TimelineEntry[] }) {
  const shown = entries.filter((e) => e.kind !== "IGNORED");
  return (
    <ol className="timeline">
      {shown.map((e, i) => (
        <li key={i}>
          <time dateTime={e.at}>{new Date(e.at).toLocaleString()}</time> <span>{entryText(e)}</span>
        </li>
      ))}
    </ol>
  );
}
