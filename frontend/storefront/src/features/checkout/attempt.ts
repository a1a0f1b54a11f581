// One checkout attempt keeps one Idempotency-Key: a double click, a retry
// after a network error or a reload during the request sends the same key,
// and the order service answers with the order the first request placed.
// A changed cart is another attempt (a new key).
import type { CartLine } from "../cart/cart";

const KEY = "shop.checkout.attempt";

export function cartSignature(lines: CartLine[]): string {
  return lines
    .map((l) => `${l.productId}:${l.quantity}`)
    .sort()
    .join(",");
}

export function attemptKey(lines: CartLine[], newKey: () => string = () => crypto.randomUUID()): string {
  const sig = cartSignature(lines);
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? "null") as { key?: string; sig?: string } | null;
    if (saved?.key && saved.sig === sig) return saved.key;
  } catch {
    // a damaged entry starts a new attempt
  }
  const key = newKey();
  localStorage.setItem(KEY, JSON.stringify({ key, sig }));
  return key;
}

/** The attempt placed its order: the next checkout is a new one. */
export function endAttempt() {
  localStorage.removeItem(KEY);
}
