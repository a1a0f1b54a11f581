import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { DeadLetter, Payment, TimelineEntry } from "@shop/shared";
import { Timeline } from "./Timeline";
import { buildTimeline, groupByStage } from "./timeline";

const ev = (type: string, id = "0190f5a8-0000-7000-8000-00000000000" + type.length) => ({ type, id });
const at = (s: number) => new Date(Date.UTC(2026, 2, 1, 12, 0, s)).toISOString();

// A paid order that an admin cancelled: refunded, stock returned.
const entries: TimelineEntry[] = [
  { at: at(0), kind: "TRANSITION", to: "CREATED", actor: { id: "00000000-0000-7000-8000-000000000003", role: "CUSTOMER" }, reason: "PLACED", emitted: ev("ORDER_CREATED") },
  { at: at(1), kind: "TRANSITION", from: "CREATED", to: "PAYMENT_PENDING", event: ev("INVENTORY_RESERVED"), detail: { reservation_id: "r1", expires_at: at(900), lines: "2" } },
  { at: at(2), kind: "EVENT", from: "PAYMENT_PENDING", to: "PAYMENT_PENDING", reason: "PAYMENT_INITIATED", event: ev("PAYMENT_INITIATED") },
  { at: at(30), kind: "TRANSITION", from: "PAYMENT_PENDING", to: "PAID", event: ev("PAYMENT_SUCCESS") },
  { at: at(31), kind: "EVENT", from: "PAID", to: "PAID", reason: "INVENTORY_CONFIRMED", event: ev("INVENTORY_CONFIRMED") },
  { at: at(60), kind: "TRANSITION", from: "PAID", to: "CANCELLED", actor: { id: "00000000-0000-7000-8000-000000000001", role: "ADMIN" }, reason: "ADMIN", emitted: ev("ORDER_CANCELLED") },
  { at: at(61), kind: "EVENT", from: "CANCELLED", to: "CANCELLED", reason: "PAYMENT_REFUNDED", event: ev("PAYMENT_REFUNDED"), detail: { refund_id: "f1", amount_minor: "4990", amount_currency: "EUR" } },
  { at: at(62), kind: "EVENT", from: "CANCELLED", to: "CANCELLED", reason: "INVENTORY_RELEASED", event: ev("INVENTORY_RELEASED"), detail: { inventory_reason: "ORDER_CANCELLED" } },
  { at: at(70), kind: "IGNORED", from: "CANCELLED", to: "CANCELLED", reason: "status CANCELLED", event: ev("PAYMENT_SUCCESS") },
];

const payment = {
  id: "p1", order_id: "o1", user_id: "u1", amount_minor: 4990, currency: "EUR", status: "REFUNDED", refunded_minor: 4990,
  failure_reason: "CARD_DECLINED", attempts: 2, created_at: at(2), updated_at: at(61),
  refunds: [{ id: "f1", payment_id: "p1", amount_minor: 4990, currency: "EUR", reason: "ORDER_CANCELLED", created_at: at(61) }],
} as Payment;

const letter = {
  offset: 7, key: "o1", event_id: "e9", event_type: "PAYMENT_SUCCESS", schema_version: 1, correlation_id: "o1", original_topic: "payment.events",
  original_partition: 0, original_offset: 3, source_topic: "payment.events", cause: "retries-exhausted", error: "database down", attempts: 5,
  consumer: "order", failed_at: at(40), truncated: false, payload_bytes: 10, headers: [], payload: {}, replayable: true,
  replays: [{ at: at(50), by: "00000000-0000-7000-8000-000000000001", outcome: "published", target_topic: "order.retry" }],
} as DeadLetter;

describe("the saga timeline", () => {
  it("marks each step with its service and outcome: compensations, retries, failures, ignored events", () => {
    const items = buildTimeline(entries, payment, [{ service: "order", entry: letter }]);
    const by = (title: RegExp) => items.find((i) => title.test(i.title))!;
    expect(by(/^Order placed/)).toMatchObject({ service: "order", outcome: "progress", stage: "Placement", who: "customer 00000000" });
    expect(by(/^Stock reserved/)).toMatchObject({ service: "inventory", outcome: "success", stage: "Stock" });
    expect(by(/^Paid/)).toMatchObject({ service: "payment", outcome: "success" });
    expect(by(/^Cancelled: an administrator/)).toMatchObject({ outcome: "failure", stage: "Cancellation", who: "admin 00000000" });
    expect(by(/^Refunded/)).toMatchObject({ service: "payment", outcome: "compensation", stage: "Cancellation" });
    expect(by(/^Stock released/)).toMatchObject({ service: "inventory", outcome: "compensation" });
    expect(by(/ignored/)).toMatchObject({ outcome: "ignored" });
    // What payment and the DLQ add: the declined card before the payment,
    // the dead letter and its replay.
    expect(by(/^Card declined/)).toMatchObject({ outcome: "retry", stage: "Payment" });
    expect(items.findIndex((i) => /^Card declined/.test(i.title))).toBe(items.findIndex((i) => i.title === "Paid") - 1);
    expect(by(/dead-lettered in order/)).toMatchObject({ outcome: "failure", service: "order" });
    expect(by(/replayed to order.retry/)).toMatchObject({ outcome: "retry", who: "admin 00000000" });
    // Oldest first.
    expect(items.map((i) => i.at)).toEqual([...items.map((i) => i.at)].sort());
  });

  it("groups by stage in saga order, each stage coloured by its worst outcome", () => {
    const groups = groupByStage(buildTimeline(entries, payment));
    expect(groups.map((g) => [g.stage, g.outcome])).toEqual([
      ["Placement", "progress"], ["Stock", "success"], ["Payment", "retry"], ["Cancellation", "failure"],
    ]);
  });

  it("shows each step with its outcome in words, not colour alone", () => {
    render(<Timeline items={buildTimeline(entries, payment)} live="live" />);
    const cancellation = screen.getByRole("region", { name: "Cancellation: Failure" });
    const steps = within(cancellation).getAllByRole("listitem");
    expect(steps.map((s) => within(s).getAllByText(/^(Failure|Compensation)$/)[0].textContent)).toEqual(["Failure", "Compensation", "Compensation"]);
    expect(within(steps[1]).getByText(/Refunded/)).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("Live: updates as they happen");
  });
});
