// Watching an order: reads GET /orders/{id}/events (server-sent events)
// with fetch, because EventSource cannot send the bearer token. Each event
// carries the whole progress; after a dropped connection the watcher
// reconnects with Last-Event-ID and is whole again with the next event.
// When streaming does not work (a proxy that buffers, an old browser) it
// falls back to reading GET /orders/{id}/progress every few seconds.
import type { OrderProgress } from "./types";

export interface WatchOptions {
  baseUrl: string;
  /** The token-attaching fetch (ShopApi.fetch). */
  fetch: (request: Request) => Promise<Response>;
  onProgress: (p: OrderProgress) => void;
  /** Told whether the page is live (streaming) or reading now and then. */
  onMode?: (mode: "live" | "polling" | "ended") => void;
  onError?: (status: number) => void;
  /** The fallback's interval in ms (5000). */
  pollEvery?: number;
}

interface Parsed {
  id?: string;
  event?: string;
  data: string;
  retry?: number;
}

/** parseEvents splits text/event-stream text into events; rest is an incomplete tail. */
export function parseEvents(text: string): { events: Parsed[]; rest: string } {
  const events: Parsed[] = [];
  const blocks = text.replace(/\r\n?/g, "\n").split("\n\n");
  const rest = blocks.pop() ?? "";
  for (const block of blocks) {
    const ev: Parsed = { data: "" };
    let any = false;
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue;
      const i = line.indexOf(":");
      const name = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
      any = true;
      if (name === "id") ev.id = value;
      else if (name === "event") ev.event = value;
      else if (name === "data") ev.data += (ev.data ? "\n" : "") + value;
      else if (name === "retry" && /^\d+$/.test(value)) ev.retry = Number(value);
    }
    if (any) events.push(ev);
  }
  return { events, rest };
}

/** watchOrder watches until the order is final or the returned stop is called. */
export function watchOrder(orderId: string, opts: WatchOptions): () => void {
  const abort = new AbortController();
  const { signal } = abort;
  let lastId = "";
  let retryMs = 2000;
  let failures = 0;
  const pollEvery = opts.pollEvery ?? 5000;
  const base = `${opts.baseUrl}/api/v1/orders/${encodeURIComponent(orderId)}`;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      signal.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
    });

  // stream reads one connection; it reports whether the order is final.
  const stream = async (): Promise<"end" | "closed" | "unsupported"> => {
    const headers: Record<string, string> = { Accept: "text/event-stream" };
    if (lastId) headers["Last-Event-ID"] = lastId;
    const res = await opts.fetch(new Request(`${base}/events`, { headers, signal }));
    if (!res.ok) {
      opts.onError?.(res.status);
      return res.status === 401 || res.status === 404 ? "end" : "unsupported";
    }
    if (!res.body || !(res.headers.get("Content-Type") ?? "").startsWith("text/event-stream")) return "unsupported";
    opts.onMode?.("live");
    failures = 0;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return "closed";
      const { events, rest } = parseEvents(buf + value);
      buf = rest;
      for (const ev of events) {
        if (ev.retry !== undefined) retryMs = ev.retry;
        if (ev.id !== undefined) lastId = ev.id;
        if (ev.event === "progress") opts.onProgress(JSON.parse(ev.data) as OrderProgress);
        if (ev.event === "end") {
          await reader.cancel().catch(() => undefined);
          return "end";
        }
      }
    }
  };

  const poll = async () => {
    opts.onMode?.("polling");
    while (!signal.aborted) {
      try {
        const res = await opts.fetch(new Request(`${base}/progress`, { signal }));
        if (res.ok) {
          const p = (await res.json()) as OrderProgress;
          opts.onProgress(p);
          if (p.order.status === "CANCELLED" || p.order.status === "DELIVERED") break;
        } else {
          opts.onError?.(res.status);
          if (res.status === 401 || res.status === 404) break;
        }
      } catch {
        // offline for now: try again at the next tick
      }
      await sleep(pollEvery);
    }
  };

  void (async () => {
    while (!signal.aborted) {
      let outcome: "end" | "closed" | "unsupported" | "failed";
      try {
        outcome = await stream();
      } catch {
        outcome = signal.aborted ? "end" : "failed";
      }
      if (signal.aborted || outcome === "end") break;
      if (outcome === "unsupported" || (outcome === "failed" && ++failures >= 3)) {
        await poll();
        break;
      }
      await sleep(retryMs);
    }
    if (!signal.aborted) opts.onMode?.("ended");
  })();

  return () => abort.abort();
}
