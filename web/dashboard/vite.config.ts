/**
 * The dashboard's build: a React SPA written to web/dashboard/dist, which wrangler.toml's `[assets]`
 * serves from the same origin as the API. Vite is a build tool only; nothing of it runs in production.
 * `npm run dev:dashboard` serves it with hot reload, proxying the API to a running `npm run dev`.
 * The build also writes `dist/_headers` (the CSP hashing index.html's inline script): headers.ts.
 */
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";
import { dashboardHeadersFile } from "./headers.ts";

const root = fileURLToPath(new URL(".", import.meta.url));
const api = process.env.TALLY_API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;

/** Emits `_headers` from the built index.html, so its script hashes are those of the page served. */
function protectiveHeaders(): Plugin {
  return {
    name: "tally-protective-headers",
    apply: "build",
    enforce: "post",
    generateBundle(_options, bundle) {
      const page = bundle["index.html"];
      if (page?.type !== "asset") throw new Error("tally-protective-headers: the build emitted no index.html");
      this.emitFile({ type: "asset", fileName: "_headers", source: dashboardHeadersFile(String(page.source)) });
    },
  };
}

export default defineConfig({
  root,
  base: "/",
  plugins: [react(), protectiveHeaders()],
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
      "/healthz": api,
      "/readyz": api,
      "/ws": { target: api.replace(/^http/, "ws"), ws: true },
    },
  },
  logLevel: process.env.VITEST ? "warn" : "info",
});
