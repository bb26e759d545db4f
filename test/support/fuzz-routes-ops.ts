/** The operations routes (issue #18) for the fuzz suite and the isolation matrix: see fuzz-routes.ts. */
import type { Route } from "./fuzz-routes.ts";

const DEAD_LETTER = "0123456789abcdef0123456789abcdef";

export const OPS_ROUTES: readonly Route[] = [
  // A property's traffic alerts (its key or admin).
  {
    name: "GET /api/v1/properties/:id/alert-rules",
    method: "GET",
    access: "key",
    needs: "read",
    valid: (p) => ({ path: `/api/v1/properties/${p.property_id}/alert-rules` }),
  },
  {
    name: "PUT /api/v1/properties/:id/alert-rules",
    method: "PUT",
    access: "key",
    mutatesProperty: true,
    valid: (p) => ({
      path: `/api/v1/properties/${p.property_id}/alert-rules`,
      body: { threshold: 5, consecutive_minutes: 2, max_per_day: 3, kinds: ["spike", "silence"] },
    }),
    generate: (r, p) => ({
      path: `/api/v1/properties/${p.property_id}/alert-rules`,
      body: {
        threshold: r.pick([0, 3, 1e9, -1, "4", null]),
        webhook: r.pick([
          null,
          { url: "http://169.254.169.254/latest", format: "json" },
          { url: "https://hooks.example/t", format: "slack" },
          { url: "javascript:alert(1)", format: "json" },
          "https://hooks.example/t",
        ]),
        kinds: r.pick([["spike"], ["nope"], [], "spike"]),
      },
    }),
  },
  {
    name: "POST /api/v1/properties/:id/alert-rules/rotate-secret",
    method: "POST",
    access: "key",
    mutatesProperty: true,
    valid: (p) => ({ path: `/api/v1/properties/${p.property_id}/alert-rules/rotate-secret` }),
  },
  {
    name: "POST /api/v1/properties/:id/alert-rules/test",
    method: "POST",
    access: "key",
    mutatesProperty: true,
    valid: (p) => ({ path: `/api/v1/properties/${p.property_id}/alert-rules/test` }),
  },
  {
    name: "GET /api/v1/properties/:id/alerts",
    method: "GET",
    access: "key",
    needs: "read",
    valid: (p) => ({ path: `/api/v1/properties/${p.property_id}/alerts`, query: { status: "all", limit: "20" } }),
  },
  // The operator's board and dead letters (the admin token).
  {
    name: "GET /api/v1/ops/metrics",
    method: "GET",
    access: "admin",
    valid: () => ({ path: "/api/v1/ops/metrics", query: { minutes: "15" } }),
  },
  {
    name: "GET /api/v1/ops/dead-letters",
    method: "GET",
    access: "admin",
    valid: () => ({ path: "/api/v1/ops/dead-letters", query: { limit: "10" } }),
  },
  {
    name: "GET /api/v1/ops/dead-letters/audit",
    method: "GET",
    access: "admin",
    valid: () => ({ path: "/api/v1/ops/dead-letters/audit" }),
  },
  {
    name: "GET /api/v1/ops/dead-letters/:id",
    method: "GET",
    access: "admin",
    valid: () => ({ path: `/api/v1/ops/dead-letters/${DEAD_LETTER}` }),
  },
  {
    name: "POST /api/v1/ops/dead-letters/:id/replay",
    method: "POST",
    access: "admin",
    startsJob: true,
    valid: () => ({ path: `/api/v1/ops/dead-letters/${DEAD_LETTER}/replay` }),
  },
  {
    name: "POST /api/v1/ops/dead-letters/replay-all",
    method: "POST",
    access: "admin",
    startsJob: true,
    valid: () => ({ path: "/api/v1/ops/dead-letters/replay-all" }),
  },
  {
    name: "DELETE /api/v1/ops/dead-letters/:id",
    method: "DELETE",
    access: "admin",
    startsJob: true,
    valid: () => ({ path: `/api/v1/ops/dead-letters/${DEAD_LETTER}`, body: { reason: "fuzzed" } }),
  },
  { name: "GET /healthz", method: "GET", access: "public", valid: () => ({ path: "/healthz" }) },
  { name: "GET /readyz", method: "GET", access: "public", valid: () => ({ path: "/readyz" }) },
];
