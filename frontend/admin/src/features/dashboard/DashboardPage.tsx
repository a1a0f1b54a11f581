import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link } from "react-router-dom";
import { Bar, BarChart, CartesianGrid, Cell, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { formatDateTime, formatMoney, queryKeys, unwrap } from "@shop/shared";
import { useApi, useAuth, usePageTitle } from "@shop/shared/react";
import { ErrorState, Loading, Money, SelectField, StatusBadge, statusLabel } from "@shop/shared/ui";
import { fillDays, mainCurrency, statusBars, totals } from "./charts";

const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
const statusColours: Record<string, string> = {
  CREATED: "#6b7686", PAYMENT_PENDING: "#b07d10", PAID: "#1f5fbf", SHIPPED: "#6a4bc4", DELIVERED: "#1e7a3c", CANCELLED: "#b3261e",
};

export function DashboardPage() {
  usePageTitle("Dashboard", "Shop admin");
  const api = useApi();
  const { user } = useAuth();
  const isAdmin = user?.role === "ADMIN";
  const [span, setSpan] = useState(30);
  // The range ends at the next full hour, so that the query key (and the
  // cache) stays the same while the page is open.
  const range = useMemo(() => {
    const to = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000);
    const startDay = new Date(to.getTime() - span * 86_400_000);
    return { from: startDay.toISOString(), to: to.toISOString() };
  }, [span]);
  const daily = useQuery({
    queryKey: queryKeys.daily({ ...range, tz }),
    queryFn: () => unwrap(api.order.GET("/api/v1/orders/stats/daily", { params: { query: { ...range, tz } } })),
  });
  const stats = useQuery({
    queryKey: queryKeys.stats(range),
    queryFn: () => unwrap(api.order.GET("/api/v1/orders/stats", { params: { query: range } })),
    enabled: isAdmin,
  });
  // The saga now, read again every 10 s: the order service's figures of
  // the last 24 hours (in-flight orders are younger than their SLA) and its
  // stuck orders, which also feed its metrics (orders_by_status,
  // orders_stuck).
  const liveRange = useMemo(() => ({ from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date(Date.now() + 86_400_000).toISOString() }), []);
  const live = useQuery({
    queryKey: queryKeys.stats({ ...liveRange, live: true }),
    queryFn: () => unwrap(api.order.GET("/api/v1/orders/stats", { params: { query: liveRange } })),
    enabled: isAdmin,
    refetchInterval: 10_000,
  });
  const latest = useQuery({
    queryKey: queryKeys.orderList({ latest: true }),
    queryFn: () => unwrap(api.order.GET("/api/v1/orders", { params: { query: { limit: 8 } } })),
    refetchInterval: 15_000,
  });
  if (daily.isPending) return <Loading label="Loading the figures…" />;
  if (daily.isError) return <ErrorState error={daily.error} onRetry={() => void daily.refetch()} />;
  const days = daily.data.days;
  const currency = mainCurrency(days);
  const points = fillDays(days, new Date(daily.data.from), new Date(daily.data.to), daily.data.tz, currency);
  const sum = totals(days, currency);
  const bars = statusBars(sum.counts, statusLabel);
  const money = (minor: number) => formatMoney(minor, currency);
  const stuck = stats.data ? Object.values(stats.data.stuck).reduce((a, b) => a + b, 0) : undefined;
  return (
    <>
      <div className="page-head">
        <h1>Dashboard</h1>
        <SelectField label="Period" value={span} onChange={(e) => setSpan(Number(e.target.value))} className="page-head__filter">
          <option value={7}>Last 7 days</option>
          <option value={30}>Last 30 days</option>
          <option value={90}>Last 90 days</option>
        </SelectField>
      </div>
      {!isAdmin && <p className="muted">Your own orders: those whose every line is one of your products.</p>}
      <ul className="kpis" aria-label="Figures of the period">
        <li><span className="kpi__label">Orders</span><span className="kpi__value">{sum.orders}</span></li>
        <li><span className="kpi__label">Revenue</span><span className="kpi__value">{money(sum.revenue)}</span></li>
        <li><span className="kpi__label">Average paid order</span><span className="kpi__value">{money(sum.averageOrder)}</span></li>
        <li><span className="kpi__label">Refunded</span><span className="kpi__value">{money(sum.refunded)}</span></li>
        {isAdmin && (
          <li className={stuck ? "kpi--alert" : undefined}>
            <span className="kpi__label">Stuck sagas now</span>
            <span className="kpi__value">{stuck ?? "…"}</span>
            {!!stuck && <Link to="/stuck">See them</Link>}
          </li>
        )}
      </ul>
      {isAdmin && <SagaNow stats={live.data} updatedAt={live.dataUpdatedAt} error={live.isError} />}
      <div className="charts">
        <figure className="chart card">
          <figcaption><h2>Revenue per day</h2><p className="muted">Paid and not cancelled, and refunds, in {currency}</p></figcaption>
          <div className="chart__plot" aria-hidden="true">
            <ResponsiveContainer width="100%" height={260}>
              <LineChart accessibilityLayer={false} data={points} margin={{ top: 8, right: 16, bottom: 0, left: 8 }}>
                <CartesianGrid strokeDasharray="3 3" stroke="#d5dae1" />
                <XAxis dataKey="label" minTickGap={16} tick={{ fontSize: 12 }} />
                <YAxis tickFormatter={(v: number) => formatMoney(v, currency).replace(/[.,]00(?=\D*$)/, "")} width={80} tick={{ fontSize: 12 }} />
                <Tooltip formatter={(v) => money(Number(v))} />
                <Legend />
                <Line type="monotone" dataKey="revenue" name="Revenue" stroke="#1f5fbf" strokeWidth={2} dot={false} isAnimationActive={false} />
                <Line type="monotone" dataKey="refunded" name="Refunded" stroke="#b3261e" strokeWidth={2} strokeDasharray="5 4" dot={false} isAnimationActive={false} />
              </LineChart>
            </ResponsiveContainer>
          </div>
          <details className="chart__table">
            <summary>Revenue per day as a table</summary>
            <table>
              <thead><tr><th scope="col">Day</th><th scope="col">Orders</th><th scope="col">Revenue</th><th scope="col">Refunded</th></tr></thead>
              <tbody>
                {points.map((p) => (
                  <tr key={p.day}><th scope="row">{p.day}</th><td>{p.orders}</td><td>{money(p.revenue)}</td><td>{money(p.refunded)}</td></tr>
                ))}
              </tbody>
            </table>
          </details>
        </figure>
        <figure className="chart card">
          <figcaption><h2>Orders per status</h2><p className="muted">Orders placed in the period, by where they stand now</p></figcaption>
          <div className="chart__plot" aria-hidden="true">
            <ResponsiveContainer width="100%" height={260}>
              <BarChart accessibilityLayer={false} data={bars} layout="vertical" margin={{ top: 8, right: 24, bottom: 0, left: 8 }}>
                <CartesianGrid strokeDasharray="3 3" stroke="#d5dae1" />
                <XAxis type="number" allowDecimals={false} tick={{ fontSize: 12 }} />
                <YAxis type="category" dataKey="label" width={130} tick={{ fontSize: 12 }} />
                <Tooltip />
                <Bar dataKey="count" name="Orders" isAnimationActive={false} label={{ position: "right", fontSize: 12 }}>
                  {bars.map((b) => <Cell key={b.status} fill={statusColours[b.status]} />)}
                </Bar>
              </BarChart>
            </ResponsiveContainer>
          </div>
          <table className="chart__legend-table">
            <caption className="visually-hidden">Orders per status</caption>
            <tbody>
              {bars.map((b) => (
                <tr key={b.status}><th scope="row">{b.label}</th><td>{b.count}</td></tr>
              ))}
            </tbody>
          </table>
        </figure>
        <section className="card chart--wide" aria-labelledby="latest-title">
          <h2 id="latest-title">Latest orders</h2>
          {latest.isPending ? <Loading /> : latest.isError ? <ErrorState error={latest.error} /> : (
            <div className="table-wrap">
              <table className="table table--compact">
                <thead><tr><th scope="col">Order</th><th scope="col">Placed</th><th scope="col">Status</th><th scope="col" className="num">Total</th></tr></thead>
                <tbody>
                  {latest.data.orders.map((o) => (
                    <tr key={o.id}>
                      <td><Link to={`/orders/${o.id}`} className="id">{o.id.slice(0, 8)}</Link></td>
                      <td>{formatDateTime(o.created_at)}</td>
                      <td><StatusBadge status={o.status} /></td>
                      <td className="num"><Money minor={o.total.amount_minor} currency={o.total.currency} /></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
        <figure className="chart card chart--wide">
          <figcaption><h2>Orders per day</h2><p className="muted">Placed each day, by where they stand now</p></figcaption>
          <div className="chart__plot" aria-hidden="true">
            <ResponsiveContainer width="100%" height={240}>
              <BarChart accessibilityLayer={false} data={points.map((p) => ({ label: p.label, ...p.counts }))} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" stroke="#d5dae1" />
                <XAxis dataKey="label" minTickGap={16} tick={{ fontSize: 12 }} />
                <YAxis allowDecimals={false} tick={{ fontSize: 12 }} />
                <Tooltip />
                <Legend />
                {bars.map((b) => (
                  <Bar key={b.status} dataKey={b.status} name={b.label} stackId="s" fill={statusColours[b.status]} isAnimationActive={false} />
                ))}
              </BarChart>
            </ResponsiveContainer>
          </div>
          <details className="chart__table">
            <summary>Orders per day as a table</summary>
            <table>
              <thead><tr><th scope="col">Day</th>{bars.map((b) => <th key={b.status} scope="col">{b.label}</th>)}</tr></thead>
              <tbody>
                {points.map((p) => (
                  <tr key={p.day}><th scope="row">{p.day}</th>{bars.map((b) => <td key={b.status}>{p.counts[b.status]}</td>)}</tr>
                ))}
              </tbody>
            </table>
          </details>
        </figure>
      </div>
    </>
  );
}

type LiveStats = { counts: Record<string, number>; stuck: Record<string, number> };

/** SagaNow: where the saga stands, refreshed every 10 s. */
function SagaNow({ stats, updatedAt, error }: { stats?: LiveStats; updatedAt: number; error: boolean }) {
  const figure = (n: number | undefined) => (n === undefined ? "…" : n);
  const c = stats?.counts;
  const stuck = stats ? Object.values(stats.stuck).reduce((a, b) => a + b, 0) : undefined;
  return (
    <section className="card saga-now" aria-labelledby="saga-now-title">
      <h2 id="saga-now-title">The saga now</h2>
      <p className="muted small">
        Orders of the last 24 hours, refreshed every 10 seconds
        {updatedAt > 0 && <> (as of {new Date(updatedAt).toLocaleTimeString()})</>}
        {error && <> · the last refresh failed</>}
      </p>
      <ul className="kpis" aria-label="The saga now">
        <li><span className="kpi__label">Waiting for stock</span><span className="kpi__value">{figure(c?.CREATED)}</span></li>
        <li><span className="kpi__label">Waiting for payment</span><span className="kpi__value">{figure(c?.PAYMENT_PENDING)}</span></li>
        <li><span className="kpi__label">Paid</span><span className="kpi__value">{figure(c ? (c.PAID ?? 0) + (c.SHIPPED ?? 0) + (c.DELIVERED ?? 0) : undefined)}</span></li>
        <li><span className="kpi__label">Cancelled</span><span className="kpi__value">{figure(c?.CANCELLED)}</span></li>
        <li className={stuck ? "kpi--alert" : undefined}><span className="kpi__label">Stuck</span><span className="kpi__value">{figure(stuck)}</span></li>
      </ul>
    </section>
  );
}
