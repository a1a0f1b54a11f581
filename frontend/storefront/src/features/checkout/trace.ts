// One checkout is one trace. The services start a trace for each request
// they receive; the storefront names one W3C trace ID for a checkout, from
// placing the order to paying it, so that the order's whole saga (placed,
// reserved, paid) shows as one trace in the services' tracing backend.
// The browser records no spans of its own: each request names a fresh
// span ID as its parent and the "not sampled" flag, and the services
// decide for themselves what to record (a client's flag is not trusted).

const ORDERS = "shop.checkout.traces";
const KEEP = 20; // orders remembered (the newest), enough for one shopper's tab

function hex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** A new W3C trace ID (32 lowercase hex digits). */
export function newTraceId(): string {
  return hex(16);
}

/** The traceparent header of one request of traceId's checkout. */
export function traceHeaders(traceId: string | undefined): Record<string, string> {
  return traceId ? { traceparent: `00-${traceId}-${hex(8)}-00` } : {};
}

function remembered(): [string, string][] {
  try {
    const v = JSON.parse(sessionStorage.getItem(ORDERS) ?? "[]") as unknown;
    return Array.isArray(v) ? (v as [string, string][]) : [];
  } catch {
    return [];
  }
}

/** Remembers the trace an order was placed in, for its payment. */
export function rememberOrderTrace(orderId: string, traceId: string) {
  const rest = remembered().filter(([id]) => id !== orderId);
  sessionStorage.setItem(ORDERS, JSON.stringify([[orderId, traceId], ...rest].slice(0, KEEP)));
}

/** The trace orderId was placed in by this tab, if it was. */
export function orderTrace(orderId: string): string | undefined {
  return remembered().find(([id]) => id === orderId)?.[1];
}
