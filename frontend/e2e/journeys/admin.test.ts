import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { axeViolations, desktop, launch, newShopper, phone, shoot, shootDesktop } from "../browser";
import { api, buyAndPay, go, login, poison, signIn } from "./admin";

const url = inject("shopUrl");
const broker = inject("shopBroker");
let browser: Browser;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ browser, close } = await launch());
});
afterAll(async () => {
  await close?.();
});

/** staff opens a browser page with CSP violations and page errors collected. */
async function staff(): Promise<{ page: Page; problems: string[]; done: () => Promise<void> }> {
  const { context, page } = await newShopper(browser, url);
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(String(e)));
  return { page, problems, done: () => context.close() };
}

const stamp = Date.now().toString(36);

describe.sequential("staff in the admin app", () => {
  let productId = "";
  let orderId = "";

  it("an admin creates a product and sets its stock; a customer buys it; the admin finds the order on the dashboard, follows its saga and ships it", async () => {
    const { page, problems, done } = await staff();
    await page.goto("/admin/");
    await page.getByRole("heading", { name: "Staff sign-in" }).waitFor();
    await shootDesktop(page, "admin-01-login");
    await signIn(page, "admin");
    await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
    await page.getByRole("heading", { name: "Revenue per day" }).waitFor();
    await page.locator(".recharts-surface").first().waitFor();
    await page.getByRole("link", { name: /^[0-9a-f]{8}$/ }).first().waitFor(); // the latest orders
    await page.mouse.move(0, 0); // no chart tooltip in the picture
    await shoot(page, "admin-02-dashboard");

    await go(page, "Products");
    await page.getByRole("table").waitFor();
    await shootDesktop(page, "admin-05-products");
    await page.getByRole("link", { name: "New product" }).click();
    await page.getByLabel("Name").fill(`E2E Desk Lamp ${stamp}`);
    await page.getByLabel("SKU").fill(`E2E-LAMP-${stamp}`.toUpperCase());
    await page.getByLabel("Description").fill("A lamp made by the browser test.");
    await page.getByLabel("Price").fill("49.90");
    await page.getByLabel("Category").selectOption({ label: "Home & Kitchen › Lighting" });
    await page.getByLabel("Status").selectOption("ACTIVE");
    await shootDesktop(page, "admin-06-new-product");
    await page.getByRole("button", { name: "Create product" }).click();
    await page.getByRole("heading", { level: 1, name: `E2E Desk Lamp ${stamp}` }).waitFor();
    productId = page.url().split("/").at(-1)!;

    // A price change, in the history.
    await page.getByLabel("New price (EUR)").fill("44.90");
    await page.getByRole("button", { name: "Change price" }).click();
    await page.getByRole("table", { name: /Price history/ }).getByText("€44.90").waitFor();
    await shootDesktop(page, "admin-07-product");

    await page.getByRole("link", { name: "Stock and ledger" }).click();
    await page.getByRole("heading", { level: 1, name: /^Stock of/ }).waitFor();
    await page.getByLabel("Units on hand").fill("12");
    await page.getByRole("button", { name: "Save stock" }).click();
    await page.getByText("Stock saved.").waitFor();
    await page.getByLabel("Change (units, + or −)").fill("-2");
    await page.getByLabel("Reason for the change").fill("two broken in the warehouse");
    await page.getByRole("button", { name: "Adjust" }).click();
    await page.getByRole("table", { name: /Stock movements/ }).getByText("two broken in the warehouse").waitFor();
    // The figures are read again after the change: 12 set, 2 broken.
    await page.getByRole("list", { name: "Stock figures" }).filter({ hasText: "On hand10" }).waitFor();

    // The customer buys one (through the API) and pays.
    orderId = await buyAndPay(url, productId);

    await go(page, "Dashboard");
    // The saga now, from the order service's live figures.
    await page.getByRole("region", { name: "The saga now" }).getByText("Waiting for payment").waitFor();
    const latest = page.getByRole("region", { name: "Latest orders" });
    await latest.getByRole("link", { name: orderId.slice(0, 8) }).click({ timeout: 60_000 });
    await page.getByRole("heading", { level: 1, name: `Order ${orderId.slice(0, 8)}` }).waitFor();
    const timeline = page.getByRole("region", { name: "Saga timeline" });
    await timeline.getByText("Live: updates as they happen").waitFor();
    await timeline.getByText("Reserved stock sold").waitFor();
    await expect(timeline.getByRole("region", { name: /^Payment/ }).getByText("Paid", { exact: true }).count()).resolves.toBe(1);
    // Its trace, found in Jaeger by the order's ID.
    const trace = await page.getByRole("link", { name: "Its trace across the services" }).getAttribute("href");
    expect(decodeURIComponent(new URL(trace ?? "").searchParams.get("tags") ?? "")).toBe(`{"shop.order_id":"${orderId}"}`);
    await shootDesktop(page, "admin-04-order-paid");

    await page.getByRole("button", { name: "Mark shipped" }).click();
    // The stream brings the step: the page is not reloaded.
    await timeline.getByRole("region", { name: /^Fulfilment/ }).getByText("Shipped", { exact: true }).waitFor();
    await page.getByRole("button", { name: "Mark delivered" }).waitFor();
    await shootDesktop(page, "admin-04-order-shipped");
    expect(problems).toEqual([]);
    await done();
  });

  it("lists orders by status and shows a cancelled, refunded one with its compensations", async () => {
    const { page, problems, done } = await staff();
    await signIn(page, "admin");
    await go(page, "Orders");
    await page.getByLabel("Status").selectOption("CANCELLED");
    await page.getByRole("table", { name: "Orders, newest first" }).waitFor();
    await shootDesktop(page, "admin-03-orders");
    // A paid order an admin cancelled, from the demo history.
    const admin = await login(url, "admin");
    let refunded = "";
    for (let cursor = ""; !refunded; ) {
      const res = await api<{ orders: { id: string; cancel_reason?: string }[]; next_cursor?: string }>(url, `/api/v1/orders?status=CANCELLED&limit=100${cursor ? `&cursor=${cursor}` : ""}`, admin);
      for (const o of res.body.orders) {
        if (refunded || o.cancel_reason !== "ADMIN") continue;
        const p = await api<{ items: { status: string }[] }>(url, `/api/v1/payments?orderId=${o.id}`, admin);
        if (p.body.items[0]?.status === "REFUNDED") refunded = o.id;
      }
      if (!res.body.next_cursor) break;
      cursor = encodeURIComponent(res.body.next_cursor);
    }
    expect(refunded).not.toBe("");
    await page.goto(`/admin/orders/${refunded}`);
    const timeline = page.getByRole("region", { name: "Saga timeline" });
    await timeline.getByRole("region", { name: "Cancellation: Failure" }).waitFor();
    await timeline.getByText(/^Refunded/).waitFor();
    await timeline.getByText(/^Stock released/).waitFor();
    await page.getByRole("region", { name: "Payment", exact: true }).getByText("automatic (order cancelled)").waitFor();
    await shootDesktop(page, "admin-04-order-refunded");
    expect(problems).toEqual([]);
    await done();
  });

  it("shows the stuck sagas, stock, reservations, categories and users", async () => {
    const { page, problems, done } = await staff();
    await signIn(page, "admin");
    await go(page, "Stuck sagas");
    await page.getByRole("heading", { level: 1, name: "Stuck sagas" }).waitFor();
    // The demo history leaves one order that inventory has not answered.
    await page.getByRole("heading", { name: /^Placed: \d+ orders?$/ }).waitFor();
    await page.getByRole("link", { name: "Its dead letters in inventory" }).first().waitFor();
    await shootDesktop(page, "admin-08-stuck");
    await go(page, "Inventory");
    await page.getByText("Low stock").first().waitFor();
    await shootDesktop(page, "admin-09-inventory");
    await page.getByLabel("Only low stock").check();
    await page.getByRole("table", { name: "Stock per product" }).getByRole("link").first().click();
    await page.getByRole("table", { name: /Stock movements/ }).getByText("SOLD").first().waitFor();
    await shootDesktop(page, "admin-10-stock-ledger");
    await go(page, "Reservations");
    await page.getByRole("table", { name: /Active reservations/ }).waitFor();
    await shootDesktop(page, "admin-11-reservations");
    await go(page, "Categories");
    await page.getByText("Lighting", { exact: true }).waitFor();
    await shootDesktop(page, "admin-12-categories");
    await go(page, "Users");
    await page.getByRole("heading", { name: "Seller applications waiting" }).waitFor();
    await page.getByRole("table", { name: "Users" }).getByText("Disabled").first().waitFor();
    await shootDesktop(page, "admin-13-users");
    // Re-enable the disabled demo shopper, and disable again.
    await page.getByRole("button", { name: "Manage dev.patel@shop.local" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Re-enable the account" }).click();
    await page.getByRole("row").filter({ hasText: "dev.patel@shop.local" }).getByText("Active").waitFor();
    await page.getByRole("button", { name: "Manage dev.patel@shop.local" }).click();
    await page.getByRole("dialog").getByLabel("Reason for disabling").fill("Chargeback under review");
    await page.getByRole("dialog").getByRole("button", { name: "Disable the account" }).click();
    await page.getByRole("row").filter({ hasText: "dev.patel@shop.local" }).getByText("Disabled").waitFor();
    expect(problems).toEqual([]);
    await done();
  });

  it("finds a poison message in the DLQ view, dry-runs and replays it; the replay keeps the event ID", async () => {
    expect(broker, "the stack's broker address").not.toBe("");
    const sent = poison(broker);
    const { page, problems, done } = await staff();
    await signIn(page, "admin");
    await go(page, "Dead letters");
    await page.getByRole("heading", { level: 1, name: "Dead letters" }).waitFor();
    // The malformed one: refused by replay.
    await page.getByLabel("Cause").selectOption("malformed");
    const show = page.getByRole("button", { name: "Show" });
    for (let i = 0; i < 60; i++) {
      await show.click();
      if (await page.getByText(/Not replayable/).count()) break;
      await page.waitForTimeout(500);
    }
    await page.getByText(/Not replayable/).first().waitFor();
    // The rejected one, by its order.
    await page.getByLabel("Cause").selectOption("");
    await page.getByLabel("Order ID").fill(sent.order_id);
    for (let i = 0; i < 60; i++) {
      await show.click();
      if (await page.getByRole("checkbox", { name: /^Select entry/ }).count()) break;
      await page.waitForTimeout(500);
    }
    const row = page.getByRole("row").filter({ hasText: "PAYMENT_SUCCESS" }).first();
    await row.getByText("rejected").waitFor();
    await row.getByRole("button", { name: "Details" }).click();
    await page.getByRole("table", { name: "Headers" }).getByText(sent.event_id).first().waitFor();
    await shootDesktop(page, "admin-14-dead-letters");
    await row.getByRole("button", { name: "Replay…" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText(/Dry run: nothing was sent yet\. 1 would go to order\.retry/).waitFor();
    await shootDesktop(page, "admin-15-dlq-dry-run", { fullPage: false });
    await dialog.getByRole("button", { name: "Replay 1 message" }).click();
    await dialog.getByRole("status").filter({ hasText: "1 replayed" }).waitFor();
    await shootDesktop(page, "admin-16-dlq-replayed", { fullPage: false });
    await dialog.getByRole("button", { name: "Close" }).click();

    // The order service handled the replay again (the order still does not
    // exist, so it is dead-lettered again, from order.retry), with the same
    // event ID; the first entry records the replay.
    const admin = await login(url, "admin");
    let entries: { event_id: string; original_topic: string; replays: unknown[] }[] = [];
    for (let i = 0; i < 60; i++) {
      entries = (await api<{ entries: typeof entries }>(url, `/api/v1/admin/dlq/order?order_id=${sent.order_id}`, admin)).body.entries;
      if (entries.some((e) => e.original_topic === "order.retry")) break;
      await new Promise((ok) => setTimeout(ok, 500));
    }
    expect(entries.map((e) => [e.event_id, e.original_topic])).toEqual([[sent.event_id, "payment.events"], [sent.event_id, "order.retry"]]);
    expect(entries[0].replays).toHaveLength(1);
    await show.click();
    await page.getByText("replayed 1×").waitFor();
    expect(problems).toEqual([]);
    await done();
  });

  it("shows a seller only its own products and none of the admin screens", async () => {
    const { page, problems, done } = await staff();
    await signIn(page, "seller");
    await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
    const nav = page.getByRole("navigation", { name: "Screens" });
    expect(await nav.getByRole("link").allTextContents()).toEqual(["Dashboard", "Orders", "Products", "Inventory", "Reservations"]);
    await go(page, "Products");
    await page.getByRole("heading", { level: 1, name: "Your products" }).waitFor();
    await page.getByRole("table").waitFor();
    await shootDesktop(page, "admin-17-seller-products");
    // Every product listed is the seller's: the admin's E2E lamp is not.
    const seller = await login(url, "seller");
    const me = await api<{ id: string }>(url, "/api/v1/users/me", seller);
    const names = await page.getByRole("table").locator("tbody td:first-child a").allTextContents();
    expect(names.length).toBeGreaterThan(0);
    expect(names.some((n) => n.startsWith("E2E Desk Lamp"))).toBe(false);
    const all = await api<{ items: { name: string; seller_id: string }[] }>(url, `/api/v1/products?seller=${me.body.id}&limit=100`, seller);
    expect(all.body.items.every((p) => p.seller_id === me.body.id)).toBe(true);
    for (const n of names) expect(all.body.items.map((p) => p.name)).toContain(n);
    // An admin screen opened by its address: refused, clearly.
    await page.goto("/admin/dead-letters");
    await page.getByRole("heading", { name: "Administrators only" }).waitFor();
    await page.goto("/admin/users");
    await page.getByRole("heading", { name: "Administrators only" }).waitFor();
    await shootDesktop(page, "admin-18-seller-refused");
    expect(problems).toEqual([]);
    await done();
  });

  it("tells a customer who opens /admin/ that it is for staff", async () => {
    const { page, problems, done } = await staff();
    await signIn(page, "customer");
    await page.getByRole("heading", { name: "This area is for staff" }).waitFor();
    await page.getByText("customer@shop.local").waitFor();
    await shootDesktop(page, "admin-19-customer-refused");
    await page.getByRole("region", { name: "This area is for staff" }).getByRole("button", { name: "Log out" }).click();
    await page.getByRole("heading", { name: "Staff sign-in" }).waitFor();
    expect(problems).toEqual([]);
    await done();
  });

  it("has no serious or critical accessibility violation on its screens", async () => {
    const { page, done } = await staff();
    const report: Record<string, string[]> = {};
    const scan = async (name: string) => {
      report[name] = await axeViolations(page);
    };
    await page.goto("/admin/login");
    await page.getByRole("heading", { name: "Staff sign-in" }).waitFor();
    await scan("login");
    await signIn(page, "admin");
    await page.locator(".recharts-surface").first().waitFor();
    await scan("dashboard");
    await page.setViewportSize(phone);
    await scan("dashboard (phone)");
    await page.setViewportSize(desktop);
    for (const [screen, ready] of [
      ["Orders", "Orders, newest first"], ["Stuck sagas", null], ["Products", null], ["Inventory", "Stock per product"],
      ["Reservations", null], ["Categories", null], ["Dead letters", null], ["Users", "Users"],
    ] as const) {
      await go(page, screen);
      await page.getByRole("heading", { level: 1 }).waitFor();
      if (ready) await page.getByRole("table", { name: ready }).waitFor();
      await page.waitForLoadState("networkidle");
      await scan(screen);
    }
    await page.goto(`/admin/orders/${orderId}`);
    await page.getByRole("region", { name: "Saga timeline" }).waitFor();
    await scan("order");
    await page.goto(`/admin/products/${productId}`);
    await page.getByRole("table", { name: /Price history/ }).waitFor();
    await scan("product");
    await page.goto(`/admin/inventory/${productId}`);
    await page.getByRole("table", { name: /Stock movements/ }).waitFor();
    await scan("stock");
    expect(report).toEqual(Object.fromEntries(Object.keys(report).map((k) => [k, []])));
    await done();
  });
});
