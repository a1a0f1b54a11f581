// Vitest global setup: starts a private Shop behind the gateway with the
// demo data (scripts/stackrun, on free ports), serving the built storefront
// and admin app, and hands its URL and its broker's address to the tests.
// SHOP_E2E_URL (and SHOP_E2E_BROKER) point the tests at a stack that
// already runs instead.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
let child: ChildProcess | undefined;
let binDir: string | undefined;

export default async function setup(project: TestProject) {
  let url = process.env.SHOP_E2E_URL;
  let brokerAddr = process.env.SHOP_E2E_BROKER ?? "";
  if (!url) {
    const dist = resolve(repo, "frontend/storefront/dist");
    const adminDist = resolve(repo, "frontend/admin/dist");
    for (const d of [dist, adminDist]) if (!existsSync(resolve(d, "index.html"))) throw new Error(`build the apps first (npm run build): ${d}`);
    // Built, then run itself (not `go run`, which would not pass SIGTERM
    // on and would leave the stack behind).
    binDir = mkdtempSync(join(tmpdir(), "shop-e2e-"));
    const bin = join(binDir, "stackrun");
    execFileSync("go", ["build", "-o", bin, "./scripts/stackrun"], { cwd: repo, stdio: "inherit" });
    // The demo history's stuck order (inventory never answered) stays
    // stuck while the tests run: the saga's own timeout is pushed back.
    child = spawn(bin, ["-seed", "-storefront", dist, "-admin", adminDist, "-log-level", "warn", "-env", "order:SHOP_ORDER_CREATED_TIMEOUT=2h"], {
      cwd: repo,
      stdio: ["ignore", "pipe", "pipe"],
    });
    // The launcher's stderr goes on to ours; the broker's address is read from it.
    child.stderr!.on("data", (b: Buffer) => {
      process.stderr.write(b);
      const m = /stackrun: broker\s+(\S+)/.exec(b.toString());
      if (m) brokerAddr = m[1];
    });
    url = await new Promise<string>((ok, fail) => {
      let out = "";
      child!.stdout!.on("data", (b: Buffer) => {
        out += b.toString();
        const m = /ready (http:\/\/\S+)/.exec(out);
        if (m) ok(m[1]);
      });
      child!.on("exit", (code) => fail(new Error(`stackrun exited (${code}) before it was ready`)));
    });
  }
  // The broker's line comes on stderr just before "ready" on stdout; the two
  // pipes may deliver in either order.
  for (let i = 0; i < 50 && child && !brokerAddr; i++) await new Promise((ok) => setTimeout(ok, 100));
  project.provide("shopUrl", url);
  project.provide("shopBroker", brokerAddr);
  return async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((ok) => child!.on("exit", ok));
      child.kill("SIGTERM");
      await exited;
    }
    if (binDir) rmSync(binDir, { recursive: true, force: true });
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    shopUrl: string;
    /** The stack's Kafka-protocol broker (host:port), for tests that put messages on its topics. */
    shopBroker: string;
  }
}
