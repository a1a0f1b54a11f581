// One checkout attempt keeps one Idempotency-Key: a double click, a retry
// after a network error or a reload during the request sends the same key,
// and the order service answers with the order the first request placed.
// A changed cart is another attempt (a new key). The attempt's trace ID
// stays with it in the same way: a retry is part of the same trace.
import type { CartLine } from "../cart/cart";
import { newTraceId } from "./trace";

const KEY = "shop.checkout.attempt";

export function cartSignature(lines: CartLine[]): string {
  return lines
    .map((l) => `${l.productId}:${l.quantity}`)
    .sort()
    .join(",");
}

export interface Attempt {
  key: string; // the Idempotency-Key of POST /orders
  trace: string; // the checkout's W3C trace ID
}

export function checkoutAttempt(lines: CartLine[], newKey: () => string = () => crypto.randomUUID()): Attempt {
  const sig = cartSignature(lines);
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? "null") as { key?: string; sig?: string; trace?: string } | null;
    if (saved?.key && saved.sig === sig) return { key: saved.key, trace: saved.trace ?? newTraceId() };
  } catch {
    // a damaged entry starts a new attempt
  }
  const attempt = { key: newKey(), trace: newTraceId() };
  localStorage.setItem(KEY, JSON.stringify({ ...attempt, sig }));
  return attempt;
}

/** The attempt placed its order: the next checkout is a new one. */
export function endAttempt() {
  localStorage.removeItem(KEY);
}
