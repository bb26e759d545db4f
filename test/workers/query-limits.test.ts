/**
 * The query API's bounds in workerd: body size, filter trees, whitelists that own keys only, the
 * quota charged per statement (goals, the bot audit) and the per-statement ClickHouse limits
 * (readonly, result rows, execution time) surfacing as clear errors, against the real engine.
 */
import { env } from "cloudflare:workers";
import { CompiledQuery } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../core/errors.ts";
import type { Plan } from "../../core/query/plan.ts";
import { storeFor, warehouseLink } from "../../workers/query/engine.ts";
import { statementMeter } from "../../workers/query/quota.ts";
import { type CreatedProperty, call, createProperty, envelope, YESTERDAY_10H } from "./helpers.ts";

const run = crypto.randomUUID().slice(0, 8);
let p: CreatedProperty;
const day = new Date(YESTERDAY_10H).toISOString().slice(0, 10);
const auth = () => ({ Authorization: `Bearer ${p.api_key}` });

const query = (spec: Record<string, unknown>) =>
  call("/api/v1/query", {
    method: "POST",
    headers: { ...auth(), "Content-Type": "application/json" },
    body: JSON.stringify({ property_id: p.property_id, metrics: ["visitors"], date_range: [day, day], ...spec }),
  });
const remaining = (res: Response) => Number(res.headers.get("X-RateLimit-Remaining"));

beforeAll(async () => {
  p = await createProperty({ property_id: `QL-${run}` });
});

describe("request bounds", () => {
  it("answers 413 naming the body when a POSTed query exceeds 64 KB", async () => {
    const res = await query({ filters: [["is", "event:page", ["x".repeat(70_000)]]] });
    expect(res.status).toBe(413);
    expect((await envelope(res)).error).toMatchObject({
      code: "payload_too_large",
      message: expect.stringMatching(/^body: exceeds 65536 bytes/),
    });
  });

  it("answers 413 naming q when a GET query's q exceeds 64 KB", async () => {
    const q = encodeURIComponent(
      JSON.stringify({ property_id: p.property_id, metrics: ["visitors"], pad: "x".repeat(70_000) }),
    );
    const res = await call(`/api/v1/query?q=${q}`, { headers: auth() });
    expect(res.status).toBe(413);
    expect((await envelope(res)).error.message).toMatch(/^q: exceeds/);
  });

  it.each(["constructor", "toString", "__proto__", "hasOwnProperty"])(
    "refuses the dimension %s with 400 naming it, not a 500",
    async (name) => {
      const asDimension = await query({ dimensions: [name] });
      expect(asDimension.status).toBe(400);
      expect((await envelope(asDimension)).error.message).toContain(`dimensions[0]: "${name}" is not a dimension`);
      const asFilter = await query({ filters: [["is", name, ["x"]]] });
      expect(asFilter.status).toBe(400);
      expect((await envelope(asFilter)).error.message).toContain(`filters[0][1]: "${name}" cannot be filtered on`);
    },
  );

  it("refuses an or-list longer than 50 filters, naming where", async () => {
    const leaves = Array.from({ length: 51 }, (_, i) => ["is", "event:page", [`/${i}`]]);
    const res = await query({ filters: [["or", leaves]] });
    expect(res.status).toBe(400);
    expect((await envelope(res)).error.message).toContain("filters[0][1]: holds 51 filters; at most 50");
  });

  it("refuses a filter tree of more than 200 filters and combinators in all", async () => {
    const group = ["and", Array.from({ length: 40 }, (_, i) => ["is", "event:page", [`/${i}`]])];
    const res = await query({ filters: Array.from({ length: 5 }, () => group) });
    expect(res.status).toBe(400);
    expect((await envelope(res)).error.message).toContain(
      "filters: hold 205 filters and combinators in all; at most 200",
    );
  });
});

describe("the quota, per statement", () => {
  it("charges the goals report one unit per goal it scans", async () => {
    for (const name of ["G1", "G2", "G3"]) {
      const res = await call(`/api/v1/properties/${p.property_id}/goals`, {
        method: "POST",
        headers: { ...auth(), "Content-Type": "application/json" },
        body: JSON.stringify({ name, kind: "event", event_name: name.toLowerCase() }),
      });
      expect(res.status).toBe(201);
    }
    const before = remaining(await query({}));
    const goals = await call(`/api/v1/reports?property=${p.property_id}&report=goals&start=${day}&end=${day}`, {
      headers: auth(),
    });
    expect(goals.status).toBe(200);
    expect((await goals.json<{ rows: unknown[] }>()).rows).toHaveLength(3);
    // The admission paid for the first goal; the other two cost a unit each; this query one more.
    expect(remaining(await query({ metrics: ["pageviews"] }))).toBe(before - 4);
  });

  it("charges statements started together in one PropertyDO call, and refuses them all when the quota cannot cover them", async () => {
    const calls: number[] = [];
    let left = 5;
    const fake = {
      ...env,
      PROPERTY_DO: {
        getByName: () => ({
          chargeQuery: async (_now: number, _limit: number, units = 1) => {
            calls.push(units);
            const allowed = units <= left;
            if (allowed) left -= units;
            return { allowed, remaining: left, retry_after_seconds: 60 };
          },
        }),
      },
    } as unknown as Env;
    const meter = statementMeter(fake, p.property_id);
    await Promise.all([meter(), meter(), meter(), meter()]);
    expect(calls).toEqual([3]);
    const refused = await Promise.allSettled([meter(), meter(), meter()]);
    expect(calls).toEqual([3, 3]);
    expect(refused.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    await meter();
    expect(calls).toEqual([3, 3, 1]);
  });

  it("charges the bot audit its two statements, like any query", async () => {
    const before = remaining(await query({ metrics: ["events"] }));
    const res = await call(`/api/v1/bots?property=${p.property_id}&from=${day}&to=${day}`, { headers: auth() });
    expect(res.status).toBe(200);
    expect(remaining(res)).toBe(before - 1);
    expect(remaining(await query({ metrics: ["visits"] }))).toBe(before - 3);
  });

  it("bounds the bot audit's range: at most 3,660 days (the dashboard's All time), ending no later than tomorrow", async () => {
    const long = await call(`/api/v1/bots?property=${p.property_id}&from=2010-01-01&to=2025-12-31`, {
      headers: auth(),
    });
    expect(long.status).toBe(400);
    expect((await envelope(long)).error.message).toMatch(/^from: the audit spans at most 3660 days/);
    const future = await call(`/api/v1/bots?property=${p.property_id}&from=9999-12-01&to=9999-12-31`, {
      headers: auth(),
    });
    expect(future.status).toBe(400);
    expect((await envelope(future)).error.message).toBe("to: must not be after tomorrow");
  });

  it("refuses the bot audit without credentials before reading anything", async () => {
    const res = await call(`/api/v1/bots?property=${p.property_id}`);
    expect(res.status).toBe(401);
  });
});

describe("per-statement ClickHouse limits", () => {
  const plan: Plan = { source: "clickhouse", mode: "event", legs: [], reason: "test" };
  const storeWith = (vars: Record<string, string>) =>
    storeFor({ ...env, ...vars } as Env, p.property_id, plan, Date.now());
  const failure = async (work: Promise<unknown>) => {
    const error = await work.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  };

  it("refuses a result past QUERY_MAX_RESULT_ROWS with 400 query_too_large", async () => {
    const store = storeWith({ QUERY_MAX_RESULT_ROWS: "5" });
    const error = await failure(store.rows({ sql: "SELECT number FROM numbers(10)", params: {} }));
    expect(error).toMatchObject({ code: "query_too_large", status: 400 });
    expect(error.message).toContain("more than 5 rows");
    expect(await store.rows({ sql: "SELECT number FROM numbers(5)", params: {} })).toHaveLength(5);
  });

  it("stops a statement past QUERY_MAX_EXECUTION_SECONDS with 503 query_timeout and Retry-After", async () => {
    const store = storeWith({ QUERY_MAX_EXECUTION_SECONDS: "1" });
    const error = await failure(store.rows({ sql: "SELECT count() FROM numbers(100000000000)", params: {} }));
    expect(error).toMatchObject({ code: "query_timeout", status: 503, retryAfterSeconds: 60 });
  });

  it("runs query statements read-only: writes and DDL are refused by ClickHouse", async () => {
    const store = storeWith({});
    for (const sql of [
      "CREATE TABLE ql_probe (x UInt8) ENGINE = Memory",
      "INSERT INTO events (property_id) VALUES ('x')",
    ]) {
      const error = await store.rows({ sql, params: {} }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(String(error)).toMatch(/readonly/i);
    }
  });

  it.each(["a{1001}", "\\u0041", "\\p{Letter}"])(
    "answers a pattern JavaScript takes but RE2 does not (%s) with 400 naming it",
    async (pattern) => {
      const sql = "SELECT match(toString(number), {re:String}) FROM numbers(2)";
      const error = await failure(storeWith({}).rows({ sql, params: { re: pattern } }));
      expect(error).toMatchObject({ code: "invalid_query", status: 400 });
      expect(error.message).toContain(`filters: ${JSON.stringify(pattern)} is not a valid RE2 pattern`);
    },
  );

  it("answers 503 clickhouse_unavailable with Retry-After when ClickHouse cannot be reached", async () => {
    const store = storeWith({ CLICKHOUSE_URL: "http://127.0.0.1:9" });
    const error = await failure(store.rows({ sql: "SELECT 1", params: {} }));
    expect(error).toMatchObject({ code: "clickhouse_unavailable", status: 503, retryAfterSeconds: 30 });
  });

  it("keeps the limits even when a statement's own settings try to lift them", async () => {
    const store = storeWith({ QUERY_MAX_RESULT_ROWS: "5" });
    const error = await failure(
      store.rows({ sql: "SELECT number FROM numbers(10)", params: {}, settings: { max_result_rows: 0 } }),
    );
    expect(error.code).toBe("query_too_large");
  });
});

describe("the warehouse's statement_timeout", () => {
  it("cancels a warehouse statement past QUERY_MAX_EXECUTION_SECONDS (503 query_timeout); a bad pattern is a 400", async () => {
    const link = warehouseLink({ ...env, QUERY_MAX_EXECUTION_SECONDS: "1" } as Env);
    try {
      const error = await link.rows(CompiledQuery.raw("SELECT pg_sleep(3)")).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: "query_timeout", status: 503 });
      expect(await link.rows(CompiledQuery.raw("SELECT 1 AS one"))).toEqual([{ one: 1 }]);
      const pattern = await link.rows(CompiledQuery.raw("SELECT 'a' ~ '(' AS m")).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(pattern).toMatchObject({ code: "invalid_query", status: 400 });
    } finally {
      await link.close();
    }
  });
});
