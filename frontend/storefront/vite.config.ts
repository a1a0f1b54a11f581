import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// `make dev-web` runs this dev server; /api goes to the running stack's
// gateway (SHOP_GATEWAY_URL, http://127.0.0.1:8080 by default).
const gateway = process.env.SHOP_GATEWAY_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  server: {
    host: "127.0.0.1",
    port: Number(process.env.SHOP_DEV_PORT ?? 5173),
    proxy: { "/api": { target: gateway, changeOrigin: false } },
  },
  build: { outDir: "dist", sourcemap: true },
  // A component test clicks through the app in jsdom: seconds on a busy 2-core machine, so the timeout is generous.
  test: { environment: "jsdom", globals: true, setupFiles: ["../test-setup.ts"], testTimeout: 20_000 },
});
