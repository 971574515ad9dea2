import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The page is served at /integrations/ (locally by local/page.py, in production by CloudFront).
export default defineConfig({
  base: "/integrations/",
  plugins: [react()],
  build: { outDir: "dist", sourcemap: false, target: "es2022" },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
