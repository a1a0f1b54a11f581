// The OS Chromium (Debian's package) driven by playwright-core, headless;
// Playwright's own browser download is never used.
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const phone = { width: 390, height: 844 };
export const desktop = { width: 1280, height: 900 };
const shots = resolve(dirname(fileURLToPath(import.meta.url)), "screenshots");

// playwright-core gives Chromium a fresh temporary profile of its own on
// every launch (it refuses --user-data-dir here).
export async function launch(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: process.env.SHOP_CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}

export async function newShopper(browser: Browser, baseURL: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL, viewport: desktop, locale: "en-GB", timezoneId: "Europe/Berlin" });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  return { context, page };
}

/** shoot saves the page at desktop and phone sizes as NAME-desktop.png and NAME-phone.png. */
export async function shoot(page: Page, name: string) {
  mkdirSync(shots, { recursive: true });
  const size = page.viewportSize() ?? desktop;
  for (const [label, vp] of [["desktop", desktop], ["phone", phone]] as const) {
    await page.setViewportSize(vp);
    await page.waitForTimeout(100); // let the layout settle after the resize
    await page.screenshot({ path: join(shots, `${name}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize(size);
}

/** shootDesktop saves the page at desktop size only, as NAME-desktop.png (a modal dialog: the viewport only, where its backdrop is). */
export async function shootDesktop(page: Page, name: string, { fullPage = true } = {}) {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}-desktop.png`), fullPage });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** axeViolations runs axe-core in the page and returns the serious and critical violations. */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol: the shop's CSP rightly refuses
  // an inline script tag.
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(" ")) }));
  });
  return found
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.targets.slice(0, 3).join(", ")})`);
}
