import { describe, expect, it } from "vitest";
import { parseEvents, watchOrder } from "./progress";
import type { OrderProgress } from "./types";

function progress(version: number, status: OrderProgress["order"]["status"]): OrderProgress {
  return {
    version,
    order: {
      id: "o1", user_id: "u1", status, total: { amount_minor: 100, currency: "EUR" }, item_count: 1,
      created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", status_changed_at: "2026-01-01T00:00:00Z",
    },
    timeline: [],
  } as OrderProgress;
}

function sse(chunks: string[]): Response {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const s of chunks) c.enqueue(new TextEncoder().encode(s));
      c.close();
    },
  });
  return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
}

const event = (p: OrderProgress) => `id: ${p.version}\nevent: progress\ndata: ${JSON.stringify(p)}\n\n`;

describe("the order progress stream", () => {
  it("parses events split anywhere, and skips comments", () => {
    const text = `retry: 1500\n\n: keep-alive\n\nid: 3\nevent: progress\ndata: {"a":1}\n\nid: 4\nevent: pro`;
    const { events, rest } = parseEvents(text);
    expect(events).toEqual([{ data: "", retry: 1500 }, { id: "3", event: "progress", data: '{"a":1}' }]);
    expect(rest).toBe("id: 4\nevent: pro");
  });

  it("reconnects with Last-Event-ID after a dropped stream, and stops at end", async () => {
    const seen: string[] = [];
    const sent: Request[] = [];
    const responses = [
      () => sse(["retry: 1\n\n", event(progress(1, "CREATED")).slice(0, 20), event(progress(1, "CREATED")).slice(20)]),
      () => sse([event(progress(3, "PAYMENT_PENDING")), event(progress(4, "CANCELLED")), "event: end\ndata: {}\n\n"]),
    ];
    await new Promise<void>((done) => {
      watchOrder("o1", {
        baseUrl: "http://shop.test",
        fetch: async (r) => {
          sent.push(r);
          return responses[sent.length - 1]();
        },
        onProgress: (p) => seen.push(`${p.version}:${p.order.status}`),
        onMode: (m) => m === "ended" && done(),
      });
    });
    expect(seen).toEqual(["1:CREATED", "3:PAYMENT_PENDING", "4:CANCELLED"]);
    expect(sent).toHaveLength(2);
    expect(sent[0].headers.get("Last-Event-ID")).toBeNull();
    expect(sent[1].headers.get("Last-Event-ID")).toBe("1");
  });

  it("falls back to reading the progress when the stream is not available", async () => {
    const sent: string[] = [];
    const modes: string[] = [];
    const seen: string[] = [];
    await new Promise<void>((done) => {
      watchOrder("o1", {
        baseUrl: "http://shop.test",
        pollEvery: 1,
        fetch: async (r) => {
          const path = new URL(r.url).pathname;
          sent.push(path);
          if (path.endsWith("/events")) return new Response("<html>", { status: 200, headers: { "Content-Type": "text/html" } });
          const n = sent.filter((p) => p.endsWith("/progress")).length;
          return new Response(JSON.stringify(progress(n, n < 2 ? "PAYMENT_PENDING" : "CANCELLED")), { headers: { "Content-Type": "application/json" } });
        },
        onProgress: (p) => seen.push(p.order.status),
        onMode: (m) => {
          modes.push(m);
          if (m === "ended") done();
        },
      });
    });
    expect(modes).toEqual(["polling", "ended"]);
    expect(seen).toEqual(["PAYMENT_PENDING", "CANCELLED"]);
  });
});
