/**
 * The dashboard's build: a React SPA written to web/dashboard/dist, which wrangler.toml's `[assets]`
 * serves from the same origin as the API. Vite is a build tool only; nothing of it runs in production.
 * `npm run dev:dashboard` serves it with hot reload, proxying the API to a running `npm run dev`.
 */
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));
const api = process.env.TALLY_API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;

export default defineConfig({
  root,
  base: "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // One small bundle: the dashboard is a single page, and the budget test counts every chunk.
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: {
      "/api": api,
      "/collect": api,
      "/health": api,
      "/ws": { target: api.replace(/^http/, "ws"), ws: true },
    },
  },
  logLevel: process.env.VITEST ? "warn" : "info",
});
