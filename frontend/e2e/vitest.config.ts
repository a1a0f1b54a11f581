import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["journeys/**/*.test.ts"],
    environment: "node",
    globalSetup: ["./stack.ts"],
    testTimeout: 180_000,
    hookTimeout: 900_000, // the first run builds the services
    fileParallelism: false,
  },
});
