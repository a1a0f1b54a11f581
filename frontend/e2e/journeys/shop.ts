// Steps a shopper takes, in the words of the page (labels, roles, text).
import type { Page } from "playwright-core";

let n = 0;
/** A fresh email per shopper, unique across runs on one stack. */
export function newEmail(): string {
  return `shopper-${Date.now().toString(36)}-${process.pid}-${++n}@example.com`;
}

export async function register(page: Page, email = newEmail()): Promise<string> {
  await page.goto("/register");
  await page.getByLabel("Your name").fill("Test Shopper");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery 42");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("button", { name: /Log out/ }).waitFor();
  return email;
}

export async function search(page: Page, term: string) {
  await page.getByRole("searchbox", { name: "Search products" }).fill(term);
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: `Results for “${term}”` }).waitFor();
}

/** addToCart opens the product from the list and adds quantity of it. */
export async function addFromList(page: Page, productName: string, quantity = 1) {
  await page.getByRole("link", { name: productName }).click();
  await page.getByRole("heading", { level: 1, name: productName }).waitFor();
  if (quantity !== 1) await page.getByLabel("Quantity").fill(String(quantity));
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByText("Added to your cart.").waitFor();
}

export async function checkout(page: Page) {
  await page.getByRole("link", { name: /^Cart/ }).click();
  await page.getByRole("button", { name: "Go to checkout" }).click();
  await page.getByRole("heading", { level: 1, name: "Checkout" }).waitFor();
  await page.getByRole("button", { name: "Place order" }).waitFor();
}

/** The step list's item for label, e.g. "Paid (done)". */
export function step(page: Page, label: string | RegExp) {
  return page.getByRole("list", { name: "Order progress" }).getByRole("listitem").filter({ hasText: label });
}

export async function pay(page: Page, card: string) {
  await page.getByLabel("Card number").fill(card);
  await page.getByRole("button", { name: "Pay now" }).click();
}

/** The access token the page holds (for checks through the API). */
export async function token(page: Page): Promise<string> {
  return page.evaluate(() => (JSON.parse(localStorage.getItem("shop.session") ?? "{}") as { accessToken?: string }).accessToken ?? "");
}
