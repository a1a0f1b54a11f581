// Steps staff take in the admin app, in the words of its pages.
import { execFileSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";

export const logins = {
  admin: { email: "admin@shop.local", password: "admin-demo-pass" },
  seller: { email: "seller@shop.local", password: "seller-demo-pass" },
  customer: { email: "customer@shop.local", password: "customer-demo-pass" },
};

export async function signIn(page: Page, who: keyof typeof logins) {
  await page.goto("/admin/login");
  await page.getByRole("heading", { name: "Staff sign-in" }).waitFor();
  await page.getByLabel("Email").fill(logins[who].email);
  await page.getByLabel("Password").fill(logins[who].password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** go opens a screen through the navigation. */
export async function go(page: Page, screen: string) {
  await page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: screen, exact: true }).click();
}

/** api calls the gateway's API as a user (for what a customer does beside the admin app). */
export async function api<T>(url: string, path: string, token: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(url + path, { ...init, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...init.headers } });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export async function login(url: string, who: keyof typeof logins): Promise<string> {
  const res = await fetch(`${url}/api/v1/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(logins[who]) });
  if (!res.ok) throw new Error(`login ${who}: ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** buyAndPay places an order of one unit of product as the demo customer and pays it with the good card. */
export async function buyAndPay(url: string, productId: string): Promise<string> {
  const token = await login(url, "customer");
  const placed = await api<{ id: string }>(url, "/api/v1/orders", token, {
    method: "POST", headers: { "Idempotency-Key": crypto.randomUUID() }, body: JSON.stringify({ lines: [{ product_id: productId, quantity: 1 }] }),
  });
  if (placed.status !== 201) throw new Error(`place order: ${placed.status} ${JSON.stringify(placed.body)}`);
  const orderId = placed.body.id;
  let paymentId = "";
  for (let i = 0; i < 10 && !paymentId; i++) {
    const p = await api<{ items: { id: string }[] }>(url, `/api/v1/payments?orderId=${orderId}`, token, { headers: { Prefer: "wait=10" } });
    paymentId = p.body.items[0]?.id ?? "";
  }
  const paid = await api(url, "/api/v1/payments/confirm", token, {
    method: "POST", headers: { "Idempotency-Key": crypto.randomUUID() }, body: JSON.stringify({ payment_id: paymentId, card_number: "4242424242424242" }),
  });
  if (paid.status !== 200) throw new Error(`pay: ${paid.status} ${JSON.stringify(paid.body)}`);
  return orderId;
}

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** poison writes a malformed message and a PAYMENT_SUCCESS for an unknown order to payment.events (scripts/poison). */
export function poison(broker: string): { order_id: string; event_id: string } {
  const out = execFileSync("go", ["run", "./scripts/poison", "-broker", broker], { cwd: repo, encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").at(-1)!) as { order_id: string; event_id: string };
}
