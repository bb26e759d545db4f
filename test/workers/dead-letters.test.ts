/**
 * The dead-letter path in workerd (issue #18), against the real consumer, archive bucket and
 * ClickHouse: a poison message (never decodes) and a transient one (ClickHouse unreachable) fail
 * their last attempt → their last errors are kept → the events-dlq batch keeps them → the admin
 * API lists them with those errors → the transient one is replayed after the "fix" and its events
 * land once (twice replayed: still once) → the poison one is dropped with a reason and audited.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createClient } from "@clickhouse/client-web";
import { afterEach, expect, it, vi } from "vitest";
import { DEAD_LETTER_QUEUE, handleQueue } from "../../consumers/queue.ts";
import type { AuditList, DeadLetterDetail, DeadLetterList } from "../../core/ops/dead-letter.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { S3ArchiveStore } from "../../platform/archive/s3-store.ts";
import { loadConfig } from "../../platform/config.ts";
import { compressMessage } from "../../platform/queue-codec.ts";
import { ADMIN, call, envelope } from "./helpers.ts";

const clickhouse = createClient({
  url: env.CLICKHOUSE_URL,
  database: env.CLICKHOUSE_DATABASE,
  keep_alive: { enabled: false },
});
const run = crypto.randomUUID().slice(0, 8);
const LAST_ATTEMPT = loadConfig(env).EVENTS_MAX_RETRIES + 1;
const BASE = "/api/v1/ops/dead-letters";
const JSON_ADMIN = { ...ADMIN, "Content-Type": "application/json" };

const eventIds = [1, 2, 3].map((n) => `${run}-dlq-${n}`);
const events = eventIds.map((event_id, i) =>
  makeEvent({ property_id: "UA-DLQ-1", client_id: `${run}-c${i}`, event_id }),
);
/** As the ingest stage sends: zstd-packed JSON bytes. */
const transientBody = compressMessage(JSON.stringify({ v: 1, received_at: Date.now(), events }));
const poisonBody = '{"v":1,"events":[{"broken';
const transient = { id: `${run}-transient`, body: transientBody };
const poison = { id: `${run}-poison`, body: poisonBody };

afterEach(() => vi.restoreAllMocks());

async function deliver(queue: string, messages: { id: string; body: unknown; attempts?: number }[], e: Env = env) {
  const batch = createMessageBatch(
    queue,
    messages.map(({ id, body, attempts = 1 }) => ({ id, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await handleQueue(batch, e, ctx);
  return getQueueResult(batch, ctx);
}

async function storedCount(): Promise<number> {
  const result = await clickhouse.query({
    query: "SELECT count() AS n FROM events WHERE event_id IN {ids:Array(String)}",
    query_params: { ids: eventIds },
    format: "JSONEachRow",
  });
  return Number((await result.json<{ n: string }>())[0]?.n);
}

async function stored(key: string): Promise<Record<string, unknown> | null> {
  const object = await env.ARCHIVE_BUCKET.get(key);
  return object ? object.json<Record<string, unknown>>() : null;
}

async function list(): Promise<DeadLetterList> {
  const res = await call(`${BASE}?limit=200`, { headers: ADMIN });
  expect(res.status).toBe(200);
  return res.json<DeadLetterList>();
}

/** Replays through the API and delivers what it sent to the events consumer; resolves to the answer. */
async function replayAndConsume(id: string) {
  const sent: { body: unknown; contentType?: string }[] = [];
  vi.spyOn(env.EVENTS_QUEUE, "send").mockImplementation(async (body, options) => {
    sent.push({ body, contentType: options?.contentType });
    return {} as QueueSendResponse;
  });
  const res = await call(`${BASE}/${id}/replay`, { method: "POST", headers: ADMIN });
  expect(res.status).toBe(202);
  expect(sent).toHaveLength(1);
  // The identical body, as the bytes it travelled as.
  expect(sent[0]?.contentType).toBe("bytes");
  expect(new Uint8Array(sent[0]?.body as Uint8Array)).toEqual(new Uint8Array(transientBody));
  const consumed = await deliver("events", [{ id: `${run}-replay-${crypto.randomUUID()}`, body: sent[0]?.body }]);
  expect(consumed.retryMessages).toEqual([]);
  return res.json<{ replayed: string; events: number }>();
}

it("keeps a message's last error only on its last attempt", async () => {
  const early = await deliver("events", [{ id: `${run}-early`, body: poisonBody, attempts: LAST_ATTEMPT - 1 }]);
  expect(early.retryMessages).toEqual([{ msgId: `${run}-early` }]);
  expect(await env.ARCHIVE_BUCKET.list({ prefix: "dead-letters/errors/" })).toMatchObject({ objects: [] });
});

it("walks a poison and a transient message from their last failure to a replay and a drop", async () => {
  const unreachable = { ...env, CLICKHOUSE_URL: "http://127.0.0.1:9" };
  const failed = await deliver(
    "events",
    [
      { ...poison, attempts: LAST_ATTEMPT },
      { ...transient, attempts: LAST_ATTEMPT },
    ],
    unreachable,
  );
  expect(failed.retryMessages.map((r) => r.msgId).sort()).toEqual([poison.id, transient.id].sort());
  expect(await stored(`dead-letters/errors/${poison.id}.json`)).toMatchObject({
    error: expect.stringMatching(/^schema: /),
    attempts: LAST_ATTEMPT,
    queue: "events",
  });
  const transientError = await stored(`dead-letters/errors/${transient.id}.json`);
  expect(transientError?.error).toMatch(/Error/);

  // The dead-letter queue delivers them (under an environment's name the second time, as
  // production's `tally-events-dlq`); a redelivery changes nothing.
  for (const queue of [DEAD_LETTER_QUEUE, "tally-events-dlq"]) {
    const kept = await deliver(queue, [poison, transient]);
    expect(kept.explicitAcks.sort()).toEqual([poison.id, transient.id].sort());
  }
  expect(await env.ARCHIVE_BUCKET.list({ prefix: "dead-letters/errors/" })).toMatchObject({ objects: [] });

  const listed = (await list()).dead_letters;
  expect(listed.find((d) => d.id === poison.id)).toMatchObject({
    queue: "events",
    attempts: LAST_ATTEMPT,
    last_error: expect.stringMatching(/^schema: /),
    events: 0,
    property_ids: [],
    bytes: poisonBody.length,
  });
  expect(listed.find((d) => d.id === transient.id)).toMatchObject({
    queue: "events",
    last_error: transientError?.error,
    events: 3,
    property_ids: ["UA-DLQ-1"],
    bytes: transientBody.byteLength,
  });
  const shown = await (await call(`${BASE}/${transient.id}`, { headers: ADMIN })).json<DeadLetterDetail>();
  expect(shown.events_preview?.map((e) => e.event_id)).toEqual(eventIds);
  const raw = await (await call(`${BASE}/${poison.id}`, { headers: ADMIN })).json<DeadLetterDetail>();
  expect(raw.raw_preview).toBe(poisonBody);

  // After the fix: the transient one replays and its events land once.
  expect(await storedCount()).toBe(0);
  expect(await replayAndConsume(transient.id)).toEqual({ replayed: transient.id, events: 3 });
  expect(await storedCount()).toBe(3);
  expect((await list()).dead_letters.map((d) => d.id)).not.toContain(transient.id);
  // The dead-letter queue delivering it again brings the record back; a second replay stores nothing twice.
  await deliver(DEAD_LETTER_QUEUE, [transient]);
  expect(await replayAndConsume(transient.id)).toEqual({ replayed: transient.id, events: 3 });
  expect(await storedCount()).toBe(3);

  // The poison one cannot be replayed; it is dropped with a reason, audited, and gone.
  const refused = await call(`${BASE}/${poison.id}/replay`, { method: "POST", headers: ADMIN });
  expect(refused.status).toBe(422);
  expect((await envelope(refused)).error.code).toBe("dead_letter_undecodable");
  const noReason = await call(`${BASE}/${poison.id}`, { method: "DELETE", headers: JSON_ADMIN, body: "{}" });
  expect(noReason.status).toBe(400);
  const dropped = await call(`${BASE}/${poison.id}`, {
    method: "DELETE",
    headers: JSON_ADMIN,
    body: JSON.stringify({ reason: "truncated by a broken proxy; nothing to recover" }),
  });
  expect(dropped.status).toBe(200);
  expect(await dropped.json()).toMatchObject({
    dropped: poison.id,
    audit: {
      reason: "truncated by a broken proxy; nothing to recover",
      body_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    },
  });
  expect((await list()).dead_letters.map((d) => d.id)).not.toContain(poison.id);
  const gone = await call(`${BASE}/${poison.id}`, { headers: ADMIN });
  expect(gone.status).toBe(404);
  expect((await envelope(gone)).error.code).toBe("dead_letter_not_found");
  expect(await stored(`dead-letters/dropped/${poison.id}.json`)).not.toHaveProperty("body");

  const audit = await (await call(`${BASE}/audit`, { headers: ADMIN })).json<AuditList>();
  expect(audit.audit.map((a) => [a.action, a.id])).toEqual([
    ["dropped", poison.id],
    ["replayed", transient.id],
  ]);
}, 60_000);

it("joins the last error by body when the dead-letter queue gives the message a new id", async () => {
  const body = '{"v":1,"received_at":1,"events":[]}';
  await deliver("events", [{ id: `${run}-old`, body, attempts: LAST_ATTEMPT }]);
  await deliver(DEAD_LETTER_QUEUE, [{ id: `${run}-new`, body }]);
  const shown = await (await call(`${BASE}/${run}-new`, { headers: ADMIN })).json<DeadLetterDetail>();
  expect(shown).toMatchObject({
    queue: "events",
    attempts: LAST_ATTEMPT,
    last_error: expect.stringMatching(/^schema: events/),
  });
});

it("says 'unknown' for a dead letter whose last error was not kept", async () => {
  await deliver(DEAD_LETTER_QUEUE, [{ id: `${run}-orphan`, body: { v: 1, events: "nope" } }]);
  const shown = await (await call(`${BASE}/${run}-orphan`, { headers: ADMIN })).json<DeadLetterDetail>();
  expect(shown).toMatchObject({ queue: "unknown", last_error: `unknown: gave up after ${LAST_ATTEMPT} attempts` });
  expect(shown.raw_preview).toBe('{"v":1,"events":"nope"}');
});

it("replays every decodable dead letter, a bounded page per call, and leaves the poison ones", async () => {
  const body = (n: number) =>
    JSON.stringify({
      v: 1,
      received_at: Date.now(),
      events: [makeEvent({ property_id: "UA-DLQ-1", event_id: `${run}-all-${n}` })],
    });
  await deliver(DEAD_LETTER_QUEUE, [
    { id: `${run}-all-1`, body: body(1) },
    { id: `${run}-all-2`, body: body(2) },
    { id: `${run}-all-3`, body: body(3) },
  ]);
  const send = vi.spyOn(env.EVENTS_QUEUE, "send").mockResolvedValue({} as QueueSendResponse);
  const replayed: string[] = [];
  const skipped: string[] = [];
  let cursor: string | null = null;
  let calls = 0;
  do {
    const res = await call(`${BASE}/replay-all?limit=2${cursor ? `&cursor=${cursor}` : ""}`, {
      method: "POST",
      headers: ADMIN,
    });
    expect(res.status).toBe(202);
    const page = await res.json<{ replayed: string[]; skipped: string[]; cursor: string | null }>();
    replayed.push(...page.replayed);
    skipped.push(...page.skipped);
    cursor = page.cursor;
    calls++;
  } while (cursor && calls < 10);
  expect(calls).toBeGreaterThan(1);
  expect(replayed.sort()).toEqual([`${run}-all-1`, `${run}-all-2`, `${run}-all-3`]);
  expect(skipped.sort()).toEqual([`${run}-new`, `${run}-orphan`]);
  expect(send).toHaveBeenCalledTimes(3);
  expect((await list()).dead_letters.map((d) => d.id)).toEqual([`${run}-new`, `${run}-orphan`]);
}, 60_000);

it("keeps the last error and the dead letter in an S3 archive, once", async () => {
  const testEnv = env as typeof env & { TEST_ARCHIVE_S3_ENDPOINT: string };
  const S3 = {
    endpoint: testEnv.TEST_ARCHIVE_S3_ENDPOINT,
    bucket: "tally-archive-test",
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
  };
  const onS3 = () =>
    ({
      ...env,
      ARCHIVE_S3_ENDPOINT: S3.endpoint,
      ARCHIVE_S3_BUCKET: S3.bucket,
      ARCHIVE_S3_ACCESS_KEY_ID: S3.accessKeyId,
      ARCHIVE_S3_SECRET_ACCESS_KEY: S3.secretAccessKey,
    }) as Env;
  const store = new S3ArchiveStore({ ...S3, region: "auto" });
  const id = `${run}-s3`;
  await deliver("events", [{ id, body: poisonBody, attempts: LAST_ATTEMPT }], onS3());
  expect(await store.get(`dead-letters/errors/${id}.json`)).not.toBeNull();
  const read = async () => {
    const hit = await store.get(`dead-letters/messages/${id}.json`);
    return hit && JSON.parse(new TextDecoder().decode(hit.body));
  };
  expect((await deliver(DEAD_LETTER_QUEUE, [{ id, body: poisonBody }], onS3())).explicitAcks).toEqual([id]);
  const kept = await read();
  expect(kept).toMatchObject({
    id,
    last_error: expect.stringMatching(/^schema: /),
    body: { kind: "text", text: poisonBody },
  });
  expect(await store.get(`dead-letters/errors/${id}.json`)).toBeNull();
  // A redelivery leaves the record as it was (a conditional write).
  expect((await deliver(DEAD_LETTER_QUEUE, [{ id, body: poisonBody }], onS3())).explicitAcks).toEqual([id]);
  expect(await read()).toEqual(kept);
  // Not in R2: the store is chosen per env.
  expect(await env.ARCHIVE_BUCKET.head(`dead-letters/messages/${id}.json`)).toBeNull();
}, 60_000);

it("answers only the admin token, and checks ids", async () => {
  for (const [method, path] of [
    ["GET", BASE],
    ["GET", `${BASE}/audit`],
    ["GET", `${BASE}/${run}-orphan`],
    ["POST", `${BASE}/${run}-orphan/replay`],
    ["POST", `${BASE}/replay-all`],
    ["DELETE", `${BASE}/${run}-orphan`],
  ] as const) {
    const res = await call(path, {
      method,
      headers: { "Content-Type": "application/json" },
      body: method === "GET" ? undefined : '{"reason":"x"}',
    });
    expect(res.status, `${method} ${path}`).toBe(401);
  }
  expect((await call(`${BASE}/not.an.id`, { headers: ADMIN })).status).toBe(400);
  const unknown = await call(`${BASE}/${run}-missing/replay`, { method: "POST", headers: ADMIN });
  expect(unknown.status).toBe(404);
  expect((await envelope(unknown)).error.code).toBe("dead_letter_not_found");
  expect((await list()).dead_letters.map((d) => d.id)).toEqual([`${run}-new`, `${run}-orphan`]);
});
