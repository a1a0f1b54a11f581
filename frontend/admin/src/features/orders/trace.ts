/**
 * The link from an order to its trace in the trace UI (Jaeger by default).
 *
 * The template is set when the app is built: VITE_SHOP_TRACE_URL, with
 * {orderId} (and {traceId} when the order carries one) replaced, URL-encoded.
 * The default finds the order's trace in the compose stack's Jaeger by the
 * shop.order_id attribute that every consumer span of the order carries;
 * an empty template hides the link.
 */
export const defaultTraceTemplate =
  "http://localhost:16686/search?service=inventory&tags=%7B%22shop.order_id%22%3A%22{orderId}%22%7D&lookback=7d&limit=20";

export function traceTemplate(): string {
  const configured = import.meta.env.VITE_SHOP_TRACE_URL as string | undefined;
  return configured === undefined ? defaultTraceTemplate : configured;
}

/** traceUrl fills template for an order, or is undefined when there is no template or it needs a trace ID the order lacks. */
export function traceUrl(template: string, ids: { orderId: string; traceId?: string }): string | undefined {
  if (!template.trim()) return undefined;
  if (template.includes("{traceId}") && !ids.traceId) return undefined;
  return template
    .replaceAll("{orderId}", encodeURIComponent(ids.orderId))
    .replaceAll("{traceId}", encodeURIComponent(ids.traceId ?? ""));
}
