// Vitest global setup: starts a private Shop behind the gateway with the
// demo data (scripts/stackrun, on free ports), serving the built
// storefront, and hands its URL to the tests. SHOP_E2E_URL points the tests
// at a stack that already runs instead.
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
  if (!url) {
    const dist = resolve(repo, "frontend/storefront/dist");
    if (!existsSync(resolve(dist, "index.html"))) throw new Error("build the storefront first (npm run build)");
    // Built, then run itself (not `go run`, which would not pass SIGTERM
    // on and would leave the stack behind).
    binDir = mkdtempSync(join(tmpdir(), "shop-e2e-"));
    const bin = join(binDir, "stackrun");
    execFileSync("go", ["build", "-o", bin, "./scripts/stackrun"], { cwd: repo, stdio: "inherit" });
    child = spawn(bin, ["-seed", "-storefront", dist, "-log-level", "warn"], {
      cwd: repo,
      stdio: ["ignore", "pipe", "inherit"],
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
  project.provide("shopUrl", url);
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
  }
}
