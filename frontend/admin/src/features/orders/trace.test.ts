import { defaultTraceTemplate, traceUrl } from "./trace";

describe("traceUrl", () => {
  it("finds the order's trace in Jaeger by its order ID by default", () => {
    const url = traceUrl(defaultTraceTemplate, { orderId: "0198a7c2-0000-7000-8000-000000000001" });
    expect(url).toBe(
      "http://localhost:16686/search?service=inventory&tags=%7B%22shop.order_id%22%3A%220198a7c2-0000-7000-8000-000000000001%22%7D&lookback=7d&limit=20",
    );
    expect(decodeURIComponent(new URL(url!).searchParams.get("tags")!)).toBe('{"shop.order_id":"0198a7c2-0000-7000-8000-000000000001"}');
  });

  it("fills a trace ID template, and gives no link without the trace ID", () => {
    expect(traceUrl("https://tempo.example/trace/{traceId}?o={orderId}", { orderId: "a b", traceId: "4bf92f3577b34da6a3ce929d0e0e4736" })).toBe(
      "https://tempo.example/trace/4bf92f3577b34da6a3ce929d0e0e4736?o=a%20b",
    );
    expect(traceUrl("https://tempo.example/trace/{traceId}", { orderId: "x" })).toBeUndefined();
  });

  it("gives no link when the template is empty", () => {
    expect(traceUrl("", { orderId: "x" })).toBeUndefined();
    expect(traceUrl("  ", { orderId: "x" })).toBeUndefined();
  });
});
