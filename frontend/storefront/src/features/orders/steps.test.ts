import { describe, expect, it } from "vitest";
import type { OrderProgress } from "@shop/shared";
import { orderSteps } from "./steps";

function progress(status: string, timeline: Partial<OrderProgress["timeline"][number]>[], cancel_reason?: string): OrderProgress {
  return { version: timeline.length, order: { status, cancel_reason } as OrderProgress["order"], timeline: timeline as OrderProgress["timeline"] };
}

describe("the steps a shopper follows", () => {
  it("shows reserved, then awaiting payment as the current step", () => {
    const p = progress("PAYMENT_PENDING", [
      { kind: "TRANSITION", to: "CREATED" },
      { kind: "TRANSITION", from: "CREATED", to: "PAYMENT_PENDING", event: { id: "e", type: "INVENTORY_RESERVED" } },
    ]);
    expect(orderSteps(p).map((s) => `${s.label}:${s.state}`)).toEqual(["Order placed:done", "Stock reserved:done", "Awaiting payment:current"]);
  });

  it("says why an order was cancelled, at the step it stopped", () => {
    const p = progress("CANCELLED", [{ kind: "TRANSITION", to: "CREATED" }, { kind: "TRANSITION", from: "CREATED", to: "CANCELLED" }], "OUT_OF_STOCK");
    const steps = orderSteps(p);
    expect(steps.map((s) => `${s.label}:${s.state}`)).toEqual(["Order placed:done", "Stock reserved:failed", "Cancelled:stopped"]);
    expect(steps[2].detail).toMatch(/out of stock/);
  });

  it("shows an expired reservation after the stock was reserved", () => {
    const p = progress("CANCELLED", [
      { kind: "TRANSITION", to: "CREATED" },
      { kind: "TRANSITION", from: "CREATED", to: "PAYMENT_PENDING" },
      { kind: "TRANSITION", from: "PAYMENT_PENDING", to: "CANCELLED" },
    ], "RESERVATION_EXPIRED");
    const steps = orderSteps(p);
    expect(steps.map((s) => s.state)).toEqual(["done", "done", "failed", "stopped"]);
    expect(steps[3].detail).toMatch(/reservation expired/);
  });

  it("continues to shipping once paid", () => {
    const p = progress("SHIPPED", [{ kind: "TRANSITION", to: "PAID" }, { kind: "TRANSITION", to: "SHIPPED" }]);
    expect(orderSteps(p).slice(2).map((s) => `${s.label}:${s.state}`)).toEqual(["Paid:done", "Shipped:done", "Delivered:todo"]);
  });
});
