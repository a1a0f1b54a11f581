// The dashboard's data shaping, apart from the charts so that it is tested
// on its own: the API leaves out days without orders and reports money per
// currency; the charts want every day of the range, in one currency.
import type { DailyStatsDay, OrderStatus } from "@shop/shared";

export const statuses: readonly OrderStatus[] = ["CREATED", "PAYMENT_PENDING", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"];

export interface DayPoint {
  /** YYYY-MM-DD in the dashboard's time zone. */
  day: string;
  /** A short label for the axis ("7 Dec"). */
  label: string;
  orders: number;
  /** Revenue and refunds in minor units of the chart's currency. */
  revenue: number;
  refunded: number;
  counts: Record<OrderStatus, number>;
}

const zeroCounts = (): Record<OrderStatus, number> =>
  Object.fromEntries(statuses.map((s) => [s, 0])) as Record<OrderStatus, number>;

/** dayKey is the calendar day of t in tz, as YYYY-MM-DD. */
export function dayKey(t: Date, tz: string): string {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(t);
}

/** mainCurrency is the currency with the most revenue in the range (EUR when there is none). */
export function mainCurrency(days: readonly DailyStatsDay[]): string {
  const sums = new Map<string, number>();
  for (const d of days) for (const r of d.revenue) sums.set(r.currency, (sums.get(r.currency) ?? 0) + r.amount_minor);
  let best = "";
  let most = -1;
  for (const [c, v] of [...sums].sort(([a], [b]) => a.localeCompare(b))) {
    if (v > most) {
      best = c;
      most = v;
    }
  }
  return best || "EUR";
}

/**
 * fillDays gives every calendar day in [from, to) (in tz) a point, those
 * without orders at zero, with the revenue and refunds of one currency.
 */
export function fillDays(days: readonly DailyStatsDay[], from: Date, to: Date, tz: string, currency: string, locale?: string): DayPoint[] {
  const byDay = new Map(days.map((d) => [d.day, d]));
  const label = new Intl.DateTimeFormat(locale, { timeZone: "UTC", day: "numeric", month: "short" });
  const out: DayPoint[] = [];
  const first = dayKey(from, tz);
  const last = dayKey(new Date(to.getTime() - 1), tz);
  // Walk calendar days as UTC dates: no time zone shift can skip or repeat one.
  for (let t = Date.parse(`${first}T00:00:00Z`); ; t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    if (day > last) break;
    const d = byDay.get(day);
    const counts = zeroCounts();
    for (const [s, n] of Object.entries(d?.counts ?? {})) if (s in counts) counts[s as OrderStatus] = n;
    out.push({
      day,
      label: label.format(new Date(t)),
      orders: d?.orders ?? 0,
      revenue: d?.revenue.find((r) => r.currency === currency)?.amount_minor ?? 0,
      refunded: d?.refunded.find((r) => r.currency === currency)?.amount_minor ?? 0,
      counts,
    });
  }
  return out;
}

export interface Totals {
  orders: number;
  revenue: number;
  refunded: number;
  paidOrders: number;
  /** Average value of a paid order, in minor units (0 without one). */
  averageOrder: number;
  counts: Record<OrderStatus, number>;
}

/** totals sums the range, in the chart's currency. */
export function totals(days: readonly DailyStatsDay[], currency: string): Totals {
  const t: Totals = { orders: 0, revenue: 0, refunded: 0, paidOrders: 0, averageOrder: 0, counts: zeroCounts() };
  for (const d of days) {
    t.orders += d.orders;
    for (const [s, n] of Object.entries(d.counts)) if (s in t.counts) t.counts[s as OrderStatus] += n;
    const r = d.revenue.find((x) => x.currency === currency);
    if (r) {
      t.revenue += r.amount_minor;
      t.paidOrders += r.orders;
    }
    t.refunded += d.refunded.find((x) => x.currency === currency)?.amount_minor ?? 0;
  }
  t.averageOrder = t.paidOrders ? Math.round(t.revenue / t.paidOrders) : 0;
  return t;
}

/** The status chart's bars, in saga order. */
export function statusBars(counts: Record<OrderStatus, number>, label: (s: OrderStatus) => string) {
  return statuses.map((s) => ({ status: s, label: label(s), count: counts[s] ?? 0 }));
}
