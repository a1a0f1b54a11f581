// The cart lives in local storage, so it survives a reload and is shared
// by the shop's tabs. It keeps the price each line was added at: checkout
// prices it again from the catalog and shows what changed.
import { useSyncExternalStore } from "react";

export interface CartLine {
  productId: string;
  name: string;
  sku: string;
  priceMinor: number;
  currency: string;
  quantity: number;
}

const KEY = "shop.cart";
const MAX_QTY = 99;
const listeners = new Set<() => void>();
let cache: { raw: string | null; lines: CartLine[] } = { raw: null, lines: [] };

function read(): CartLine[] {
  const raw = localStorage.getItem(KEY);
  if (raw === cache.raw) return cache.lines;
  let lines: CartLine[] = [];
  try {
    const parsed: unknown = raw ? JSON.parse(raw) : [];
    if (Array.isArray(parsed)) lines = parsed.filter((l): l is CartLine => typeof l?.productId === "string" && l.quantity > 0);
  } catch {
    lines = [];
  }
  cache = { raw, lines };
  return lines;
}

function write(lines: CartLine[]) {
  localStorage.setItem(KEY, JSON.stringify(lines));
  for (const fn of listeners) fn();
}

if (typeof window !== "undefined") {
  window.addEventListener("storage", (e) => {
    if (e.key === KEY) for (const fn of listeners) fn();
  });
}

export const cart = {
  lines: read,
  add(line: Omit<CartLine, "quantity">, quantity = 1) {
    const lines = read();
    const i = lines.findIndex((l) => l.productId === line.productId);
    if (i >= 0) {
      write(lines.map((l, j) => (j === i ? { ...l, ...line, quantity: Math.min(MAX_QTY, l.quantity + quantity) } : l)));
    } else {
      write([...lines, { ...line, quantity: Math.min(MAX_QTY, quantity) }]);
    }
  },
  setQuantity(productId: string, quantity: number) {
    const q = Math.max(0, Math.min(MAX_QTY, Math.floor(quantity)));
    write(read().flatMap((l) => (l.productId !== productId ? [l] : q === 0 ? [] : [{ ...l, quantity: q }])));
  },
  /** Takes the checked prices (and names) into the cart. */
  reprice(current: Record<string, { priceMinor: number; currency: string; name: string }>) {
    write(read().map((l) => (current[l.productId] ? { ...l, ...current[l.productId] } : l)));
  },
  remove(productId: string) {
    write(read().filter((l) => l.productId !== productId));
  },
  clear() {
    write([]);
  },
  subscribe(fn: () => void) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};

export function useCart(): CartLine[] {
  return useSyncExternalStore(cart.subscribe, read, () => []);
}

export function cartCount(lines: CartLine[]): number {
  return lines.reduce((n, l) => n + l.quantity, 0);
}

/** cartTotals sums per currency (a cart may mix them; an order may not). */
export function cartTotals(lines: CartLine[]): { currency: string; minor: number }[] {
  const by = new Map<string, number>();
  for (const l of lines) by.set(l.currency, (by.get(l.currency) ?? 0) + l.priceMinor * l.quantity);
  return [...by].map(([currency, minor]) => ({ currency, minor }));
}
