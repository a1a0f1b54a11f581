import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { environment: "jsdom", globals: true, setupFiles: ["../test-setup.ts"], testTimeout: 20_000 },
});
