import { describe, expect, it } from "vitest";
import type { DailyStatsDay } from "@shop/shared";
import { dayKey, fillDays, mainCurrency, statusBars, totals } from "./charts";

const day = (d: string, orders: number, revenue: [string, number][], refunded: [string, number][] = [], counts: Record<string, number> = {}): DailyStatsDay => ({
  day: d, orders, counts,
  revenue: revenue.map(([currency, amount_minor]) => ({ currency, amount_minor, orders: 1 })),
  refunded: refunded.map(([currency, amount_minor]) => ({ currency, amount_minor, orders: 1 })),
});

describe("the dashboard's data shaping", () => {
  it("gives every day of the range a point, the missing ones at zero", () => {
    const days = [day("2026-03-02", 3, [["EUR", 5000]], [], { PAID: 2, CANCELLED: 1 }), day("2026-03-04", 1, [["EUR", 1000]])];
    const points = fillDays(days, new Date("2026-03-01T00:00:00Z"), new Date("2026-03-05T00:00:00Z"), "UTC", "EUR", "en-GB");
    expect(points.map((p) => [p.day, p.orders, p.revenue])).toEqual([
      ["2026-03-01", 0, 0], ["2026-03-02", 3, 5000], ["2026-03-03", 0, 0], ["2026-03-04", 1, 1000],
    ]);
    expect(points[1].counts).toEqual({ CREATED: 0, PAYMENT_PENDING: 0, PAID: 2, SHIPPED: 0, DELIVERED: 0, CANCELLED: 1 });
    expect(points[0].label).toBe("1 Mar");
  });

  it("counts days in the dashboard's time zone, across a change of daylight saving time", () => {
    // 22:30 UTC on 28 March is already the 29th in Berlin; the clocks go
    // forward on the 29th, and no day is skipped or repeated.
    expect(dayKey(new Date("2026-03-28T23:30:00Z"), "Europe/Berlin")).toBe("2026-03-29");
    const points = fillDays([], new Date("2026-03-27T23:00:00Z"), new Date("2026-03-30T22:00:00Z"), "Europe/Berlin", "EUR");
    expect(points.map((p) => p.day)).toEqual(["2026-03-28", "2026-03-29", "2026-03-30"]);
  });

  it("charts the currency with the most revenue, and only its money", () => {
    const days = [day("2026-03-01", 2, [["USD", 900], ["EUR", 800]]), day("2026-03-02", 1, [["EUR", 500]], [["EUR", 200], ["USD", 50]])];
    expect(mainCurrency(days)).toBe("EUR");
    expect(mainCurrency([])).toBe("EUR");
    const points = fillDays(days, new Date("2026-03-01T00:00:00Z"), new Date("2026-03-03T00:00:00Z"), "UTC", "EUR");
    expect(points.map((p) => [p.revenue, p.refunded])).toEqual([[800, 0], [500, 200]]);
    const t = totals(days, "EUR");
    expect(t).toMatchObject({ orders: 3, revenue: 1300, refunded: 200, paidOrders: 2, averageOrder: 650 });
  });

  it("lists every status in saga order for the bars", () => {
    const t = totals([day("2026-03-01", 2, [], [], { CANCELLED: 1, DELIVERED: 1 })], "EUR");
    expect(statusBars(t.counts, (s) => s.toLowerCase())).toEqual([
      { status: "CREATED", label: "created", count: 0 }, { status: "PAYMENT_PENDING", label: "payment_pending", count: 0 },
      { status: "PAID", label: "paid", count: 0 }, { status: "SHIPPED", label: "shipped", count: 0 },
      { status: "DELIVERED", label: "delivered", count: 1 }, { status: "CANCELLED", label: "cancelled", count: 1 },
    ]);
  });
});
