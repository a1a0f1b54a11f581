import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Browser } from "playwright-core";
import { axeViolations, launch, newShopper, shoot } from "../browser";
import { addFromList, checkout, pay, register, search, step, token } from "./shop";

const url = inject("shopUrl");
let browser: Browser;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ browser, close } = await launch());
});
afterAll(async () => {
  await close?.();
});

async function api<T>(path: string, bearer: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(url + path, { ...init, headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json", ...init.headers } });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

describe.sequential("a shopper with nothing but the browser", () => {
  it("registers, finds a product despite a typo, buys two products and watches the order get paid", async () => {
    const { context, page } = await newShopper(browser, url);
    await page.goto("/");
    await page.getByRole("list", { name: "Products" }).waitFor();
    await shoot(page, "01-product-list");

    await register(page);
    await search(page, "hedphones"); // typo of headphones
    await page.getByRole("link", { name: "Aurora Wireless Noise-Cancelling Headphones" }).waitFor();
    await addFromList(page, "Aurora Wireless Noise-Cancelling Headphones");
    await page.getByText(/In stock|Only \d+ left/).waitFor();
    await shoot(page, "02-product");

    await search(page, "espreso machine");
    await addFromList(page, "Barista Espresso Machine", 2);
    await page.getByRole("link", { name: /^Cart/ }).click();
    await page.getByRole("list", { name: "Items in your cart" }).waitFor();
    await shoot(page, "03-cart");

    await checkout(page);
    await shoot(page, "04-checkout");
    await page.getByRole("button", { name: "Place order" }).click();

    // The saga, live: reserved, then awaiting payment, pushed by the server.
    await step(page, "Stock reserved").and(page.locator(".step--done")).waitFor();
    await step(page, "Awaiting payment").and(page.locator(".step--current")).waitFor();
    await page.getByText("Live: updates as they happen").waitFor();
    await page.getByText(/Your items are held for \d+:\d\d more/).waitFor();
    await page.getByLabel("Card number").waitFor();
    await shoot(page, "05-order-awaiting-payment");

    await pay(page, "4242 4242 4242 4242");
    await step(page, "Paid").and(page.locator(".step--done")).waitFor();
    await page.getByText("Thank you! Your order is paid").waitFor();
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toMatch(/^Order /);
    await shoot(page, "06-order-paid");

    // It is in the order history.
    await page.getByRole("link", { name: "Orders", exact: true }).click();
    await page.getByText("Paid", { exact: true }).first().waitFor();
    await shoot(page, "07-order-history");
    await context.close();
  });

  it("sees why a card was declined, tries another card and gets paid", async () => {
    const { context, page } = await newShopper(browser, url);
    await register(page);
    await search(page, "camping stove");
    await addFromList(page, "Titanium Camping Stove");
    await checkout(page);
    await page.getByRole("button", { name: "Place order" }).click();
    await step(page, "Awaiting payment").and(page.locator(".step--current")).waitFor();

    await pay(page, "4000 0000 0000 0002");
    await page.getByRole("alert").filter({ hasText: "Your card was declined" }).waitFor();
    await page.getByText(/declined/i).first().waitFor();
    // The order still waits for payment, and the form takes another card.
    await expect(step(page, "Awaiting payment").getAttribute("aria-current")).resolves.toBe("step");
    await shoot(page, "08-order-declined");

    await pay(page, "4242424242424242");
    await step(page, "Paid").and(page.locator(".step--done")).waitFor();
    await context.close();
  });

  it("places one order however often Place order is clicked", async () => {
    const { context, page } = await newShopper(browser, url);
    await register(page);
    await search(page, "kitchen scale");
    await addFromList(page, "Digital Kitchen Scale");
    await checkout(page);
    await page.getByRole("button", { name: "Place order" }).dblclick();
    await step(page, "Order placed").waitFor();

    const bearer = await token(page);
    const me = await api<{ id: string }>("/api/v1/users/me", bearer);
    const orders = await api<{ orders: { id: string }[] }>(`/api/v1/orders/user/${me.body.id}`, bearer);
    expect(orders.status).toBe(200);
    expect(orders.body.orders).toHaveLength(1);
    expect(page.url()).toContain(`/orders/${orders.body.orders[0].id}`);
    await context.close();
  });

  it("lets one of two shoppers racing for the last unit have it, and tells the other it was out of stock", async () => {
    // The seller leaves exactly one unit of the desk.
    const desk = "Oak Writing Desk";
    const seller = await fetch(`${url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: "seller@shop.local", password: "seller-demo-pass" }),
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    const found = await fetch(`${url}/api/v1/products?q=${encodeURIComponent(desk)}&limit=1`).then((r) => r.json() as Promise<{ items: { id: string }[] }>);
    const id = found.items[0].id;
    const stock = await api<{ on_hand: number; reserved: number }>(`/api/v1/inventory/${id}`, seller.access_token);
    const set = await api(`/api/v1/inventory/${id}`, seller.access_token, {
      method: "PUT",
      body: JSON.stringify({ on_hand: stock.body.reserved + 1 }),
    });
    expect(set.status).toBe(200);

    const a = await newShopper(browser, url);
    const b = await newShopper(browser, url);
    for (const s of [a, b]) {
      await register(s.page);
      await search(s.page, "oak desk");
      await addFromList(s.page, desk);
      await checkout(s.page);
    }
    await Promise.all([a, b].map((s) => s.page.getByRole("button", { name: "Place order" }).click()));

    // Each page settles: one waits for payment, the other is cancelled.
    const outcome = async (s: typeof a) => {
      const cancelled = step(s.page, "Cancelled");
      const waiting = step(s.page, "Awaiting payment").and(s.page.locator(".step--current"));
      for (let i = 0; i < 150; i++) {
        if ((await cancelled.count()) > 0) return "cancelled";
        if ((await waiting.count()) > 0) return "reserved";
        await s.page.waitForTimeout(200);
      }
      await s.page.screenshot({ path: "screenshots/failed-race.png", fullPage: true });
      return "neither";
    };
    const outcomes = await Promise.all([outcome(a), outcome(b)]);
    expect([...outcomes].sort()).toEqual(["cancelled", "reserved"]);
    const loser = outcomes[0] === "cancelled" ? a : b;
    await loser.page.getByText("Some items were out of stock, so nothing was reserved or charged.").waitFor();
    await shoot(loser.page, "09-order-cancelled-out-of-stock");
    await a.context.close();
    await b.context.close();
  });

  it("has no serious or critical accessibility violation on the main pages", async () => {
    const { context, page } = await newShopper(browser, url);
    const report: Record<string, string[]> = {};
    const scan = async (name: string) => {
      report[name] = await axeViolations(page);
    };
    await page.goto("/");
    await page.getByRole("list", { name: "Products" }).waitFor();
    await scan("product list");
    await page.goto("/login");
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    await scan("login");
    await register(page);
    await search(page, "yoga mat");
    await scan("search results");
    await addFromList(page, "Yoga Mat 6 mm");
    await scan("product");
    await checkout(page);
    await scan("checkout");
    await page.getByRole("button", { name: "Place order" }).click();
    await page.getByLabel("Card number").waitFor().catch(async (e: unknown) => {
      await page.screenshot({ path: "screenshots/failed-a11y.png", fullPage: true });
      console.log(await page.locator("main").innerHTML());
      throw e;
    });
    await scan("order awaiting payment");
    await page.goto("/cart");
    await page.getByRole("heading", { name: "Your cart" }).waitFor();
    await scan("empty cart");
    await page.goto("/orders");
    await page.getByRole("heading", { name: "Your orders" }).waitFor();
    await page.locator(".order-row").first().waitFor();
    await scan("order history");
    expect(report).toEqual(Object.fromEntries(Object.keys(report).map((k) => [k, []])));
    await context.close();
  });
});
