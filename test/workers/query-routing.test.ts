/**
 * Routing in workerd: every kind of question — the query language, reports, funnel, retention and
 * the bot audit — is planned by the same rule (core/query/plan.ts) and run by one executor
 * (workers/query/engine.ts), so a range beyond the hot retention answers the same way for all.
 */
import { describe, expect, it } from "vitest";
import { call, createProperty, envelope } from "./helpers.ts";

describe("one query path", () => {
  it("routes every question by the same rule: reports, funnel, retention and the bot audit 501 beyond the hot retention", async () => {
    const p = await createProperty({ property_id: `QR-${crypto.randomUUID().slice(0, 8)}` });
    const auth = { Authorization: `Bearer ${p.api_key}` };
    const steps = encodeURIComponent(
      JSON.stringify([
        { kind: "page", value: "/" },
        { kind: "page", value: "/pricing" },
      ]),
    );
    const old = "start=2024-01-01&end=2024-01-31";
    const query = encodeURIComponent(
      JSON.stringify({ property_id: p.property_id, metrics: ["visitors"], date_range: ["2024-01-01", "2024-01-31"] }),
    );
    for (const path of [
      `/api/v1/query?q=${query}`,
      `/api/v1/reports?property=${p.property_id}&report=pages&${old}`,
      `/api/v1/reports?property=${p.property_id}&report=funnel&steps=${steps}&${old}`,
      `/api/v1/reports?property=${p.property_id}&report=retention&${old}`,
      `/api/v1/bots?property=${p.property_id}&from=2024-01-01&to=2024-01-31`,
    ]) {
      const res = await call(path, { headers: auth });
      expect(res.status, path).toBe(501);
      const { error } = await envelope(res);
      expect(error.code, path).toBe("warehouse_unavailable");
      expect(error.message, path).toMatch(/more than 90 days ago.*warehouse/);
    }
  });
});
