/**
 * dev/servers/upstash-server.ts: the unmodified @upstash/redis SDK must work against it over the real Redis
 * at 127.0.0.1:6379 — single commands, pipelines, transactions, auto-pipelining, both response
 * encodings — and the wire format must be Upstash's (base64 strings, raw integers and null,
 * `{"error"}` envelopes, 401 without the token).
 */
import { randomUUID } from "node:crypto";
import { Redis } from "@upstash/redis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type RunningUpstashServer, startUpstashServer } from "../../dev/servers/upstash-server.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
// Parallel runs share the one Redis: every key of this run starts with its own prefix.
const prefix = `tally-test:${randomUUID()}:`;
const key = (name: string) => `${prefix}${name}`;

let server: RunningUpstashServer;
const sdk = (options: { responseEncoding?: false | "base64"; token?: string; enableAutoPipelining?: boolean } = {}) =>
  new Redis({
    url: server.url,
    token: server.token,
    enableTelemetry: false,
    retry: false,
    enableAutoPipelining: false,
    ...options,
  });

/** One raw request, to see the wire format the SDK hides. */
async function raw(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${server.token}`, ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

beforeAll(async () => {
  server = await startUpstashServer({ redisUrl: REDIS_URL });
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  const admin = sdk();
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await server?.close();
});

describe.each([
  ["base64", "base64" as const],
  ["plain JSON", false as const],
])("the Upstash REST adapter with %s responses", (_name, responseEncoding) => {
  const redis = () => sdk({ responseEncoding });
  const k = (name: string) => key(`${responseEncoding || "plain"}:${name}`);

  it("sets, gets, increments and expires keys", async () => {
    const r = redis();
    expect(await r.set(k("s"), "héllo ✓ 日本")).toBe("OK");
    expect(await r.get(k("s"))).toBe("héllo ✓ 日本");
    expect(await r.get(k("missing"))).toBeNull();
    expect(await r.incr(k("n"))).toBe(1);
    expect(await r.incrby(k("n"), 41)).toBe(42);
    expect(await r.expire(k("n"), 120)).toBe(1);
    const ttl = await r.ttl(k("n"));
    expect(ttl).toBeGreaterThan(100);
    expect(ttl).toBeLessThanOrEqual(120);
    expect(await r.set(k("ex"), { a: [1, 2] }, { ex: 60 })).toBe("OK");
    expect(await r.get(k("ex"))).toEqual({ a: [1, 2] });
  });

  it("answers hashes as flat arrays, which the SDK turns into objects", async () => {
    const r = redis();
    await r.hset(k("h"), { f: "v", g: "w" });
    expect(await r.hgetall(k("h"))).toEqual({ f: "v", g: "w" });
  });

  it("runs an explicit pipeline in order", async () => {
    const r = redis();
    const results = await r.pipeline().set(k("p"), 5).incr(k("p")).get(k("p")).del(k("p")).exec();
    expect(results).toEqual(["OK", 6, 6, 1]);
  });

  it("runs a MULTI/EXEC transaction and reports a failed entry on its own", async () => {
    const r = redis();
    expect(await r.multi().set(k("m"), "a").append(k("m"), "b").get(k("m")).exec()).toEqual(["OK", 2, "ab"]);
    const kept = await r.multi().set(k("m2"), "x").incr(k("m2")).get(k("m2")).exec({ keepErrors: true });
    expect(kept.map((e) => e.error)).toEqual([undefined, "ERR value is not an integer or out of range", undefined]);
    expect(kept[2]?.result).toBe("x");
  });

  it("auto-pipelines commands issued together into one POST /pipeline (reads and writes apart)", async () => {
    const r = sdk({ responseEncoding, enableAutoPipelining: true });
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    expect(await Promise.all([r.set(k("a"), "1"), r.incr(k("a")), r.incrby(k("a"), 2)])).toEqual(["OK", 2, 4]);
    expect(await Promise.all([r.get(k("a")), r.get(k("none"))])).toEqual([4, null]);
    const requests = fetchSpy.mock.calls.map(([input, init]) => [
      new URL(String(input)).pathname,
      (JSON.parse(String(init?.body)) as string[][]).map((c) => c[0]),
    ]);
    expect(requests).toEqual([
      ["/pipeline", ["set", "incr", "incrby"]],
      ["/pipeline", ["get", "get"]],
    ]);
  });
});

describe("the Upstash REST wire format", () => {
  it("base64-encodes every string in a result, leaving integers and null raw", async () => {
    await raw("/", ["SET", key("w"), "hé"]);
    const base64 = { "Upstash-Encoding": "base64" };
    expect(await raw("/", ["GET", key("w")], base64)).toEqual({
      status: 200,
      body: { result: Buffer.from("hé").toString("base64") },
    });
    expect(await raw("/", ["SET", key("w2"), "x"], base64)).toEqual({ status: 200, body: { result: "T0s=" } });
    expect(await raw("/", ["RPUSH", key("l"), "a", "b"], base64)).toEqual({ status: 200, body: { result: 2 } });
    expect(await raw("/", ["LRANGE", key("l"), 0, -1], base64)).toEqual({
      status: 200,
      body: { result: ["YQ==", "Yg=="] },
    });
    expect(await raw("/", ["GET", key("none")], base64)).toEqual({ status: 200, body: { result: null } });
    expect(await raw("/", ["GET", key("w")])).toEqual({ status: 200, body: { result: "hé" } });
  });

  it("answers a failed command with an error envelope and HTTP 400", async () => {
    await raw("/", ["SET", key("e"), "text"]);
    expect(await raw("/", ["INCR", key("e")])).toEqual({
      status: 400,
      body: { error: "ERR value is not an integer or out of range" },
    });
    await expect(sdk().incr(key("e"))).rejects.toThrow("ERR value is not an integer or out of range");
  });

  it("reports errors per entry in a pipeline, with HTTP 200", async () => {
    expect(
      await raw("/pipeline", [["SET", key("pe"), "t"], ["INCR", key("pe")], ["NOSUCHCMD"], ["GET", key("pe")]]),
    ).toEqual({
      status: 200,
      body: [
        { result: "OK" },
        { error: "ERR value is not an integer or out of range" },
        { error: expect.stringContaining("ERR unknown command 'NOSUCHCMD'") },
        { result: "t" },
      ],
    });
  });

  it("discards a transaction whose command Redis refuses while queueing", async () => {
    const res = await raw("/multi-exec", [["SET", key("tx"), "1"], ["NOSUCHCMD"]]);
    expect(res).toEqual({ status: 400, body: { error: expect.stringContaining("EXECABORT") } });
    expect(await sdk().get(key("tx"))).toBeNull();
  });

  it("refuses commands that would change the shared connection's state", async () => {
    expect(await raw("/", ["SELECT", "1"])).toEqual({
      status: 400,
      body: { error: "ERR command is not available: SELECT" },
    });
  });

  it("answers 401 without the right bearer token", async () => {
    const none = await fetch(`${server.url}/`, { method: "POST", body: JSON.stringify(["PING"]) });
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: "Unauthorized" });
    await expect(sdk({ token: "wrong" }).get(key("x"))).rejects.toThrow("Unauthorized");
  });

  it("takes a command from the path, as GET /set/key/value", async () => {
    const headers = { Authorization: `Bearer ${server.token}` };
    const set = await fetch(`${server.url}/set/${encodeURIComponent(key("path"))}/a%2Fb`, { headers });
    expect(await set.json()).toEqual({ result: "OK" });
    expect(await sdk().get(key("path"))).toBe("a/b");
  });

  it("fails to start at once when Redis does not answer", async () => {
    await expect(startUpstashServer({ redisUrl: "redis://127.0.0.1:1" })).rejects.toThrow(/ECONNREFUSED/);
  });
});
