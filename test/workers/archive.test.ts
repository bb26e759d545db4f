/**
 * archive-consumer-integration: the archive queue's consumer in workerd, writing Parquet to
 * Miniflare's R2 (the ARCHIVE_BUCKET binding) — keys, exact read-back, redelivery, per-message
 * ack/retry — and /collect sending every accepted event to both queues, archive first; then the
 * Cron Trigger compacting what the consumer wrote, through the same binding.
 */
import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { deliverArchiveBatch } from "../../consumers/archive-consumer.ts";
import {
  ArchiveManifestSchema,
  type ArchiveRecord,
  batchFileKey,
  deterministicId,
  fileKind,
  manifestKey,
  partitionOf,
  pendingKey,
  toArchiveRecord,
} from "../../core/archive/layout.ts";
import { type ArchiveCodec, decodeArchiveFile } from "../../core/archive/parquet.ts";
import { type ArchiveStore, listAll } from "../../core/archive/store.ts";
import type { Event } from "../../core/event.ts";
import type { EventsMessage } from "../../core/ingest/queue-message.ts";
import { HOUR_MS } from "../../core/time.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { R2ArchiveStore } from "../../platform/archive/r2-store.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";
import worker from "../../workers/main.ts";
import { call, createProperty, envelope, sentMessage } from "./helpers.ts";

afterEach(() => vi.restoreAllMocks());

const run = crypto.randomUUID().slice(0, 8);
const T = Date.UTC(2026, 10, 26, 9, 30);
const store = () => new R2ArchiveStore(env.ARCHIVE_BUCKET);

function message(id: string, events: Event[], attempts = 1, received_at = T + 1000) {
  const body: EventsMessage = { v: 1, received_at, events };
  return { id: `${run}-${id}`, timestamp: new Date(), attempts, body };
}

function ev(property: string, n: number, overrides: Partial<Event> = {}): Event {
  return makeEvent({ property_id: property, event_id: `${run}-e${n}`, event_timestamp: T + n, ...overrides });
}

async function deliver(messages: { id: string; timestamp: Date; attempts: number; body: unknown }[]) {
  const batch = createMessageBatch("archive", messages);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

async function readFile(key: string): Promise<ArchiveRecord[]> {
  const object = await env.ARCHIVE_BUCKET.get(key);
  if (!object) throw new Error(`${key} is missing`);
  return decodeArchiveFile(new Uint8Array(await object.arrayBuffer()), zstdCodec);
}

async function keys(prefix: string): Promise<string[]> {
  return (await listAll(store(), prefix)).map((o) => o.key).sort();
}

describe("the archive consumer", () => {
  it("writes one Parquet file per property and hour, keyed by the batch's message ids, that reads back exactly", async () => {
    const a = `UA-ARCA-${run}`;
    const b = `UA-ARCB-${run}`;
    const m1 = message("w1", [ev(a, 2), ev(b, 1), ev(a, HOUR_MS + 5)]);
    const m2 = message("w2", [ev(a, 1, { custom_metrics: { revenue: 9.99 }, user_id: "u1", referrer: "" })], 1, T + 7);
    const result = await deliver([m1, m2]);
    expect(result.explicitAcks.sort()).toEqual([m1.id, m2.id]);
    expect(result.retryMessages).toEqual([]);

    const pa = partitionOf(a, T);
    const pa10 = partitionOf(a, T + HOUR_MS + 5);
    const pb = partitionOf(b, T);
    const both = await deterministicId([m1.id, m2.id]);
    expect(await keys(`events/property_id=${a}/`)).toEqual(
      [batchFileKey(pa, both), batchFileKey(pa10, await deterministicId([m1.id]))].sort(),
    );
    expect(batchFileKey(pa, both)).toMatch(
      new RegExp(`^events/property_id=${a}/dt=2026-11-26/hour=09/batch-[0-9a-f]{32}\\.parquet$`),
    );
    expect(await keys(`events/property_id=${b}/`)).toEqual([batchFileKey(pb, await deterministicId([m1.id]))]);
    // In time order, each with its own message's received_at; absent fields stay absent.
    expect(await readFile(batchFileKey(pa, both))).toEqual([
      toArchiveRecord(m2.body.events[0] as Event, T + 7),
      toArchiveRecord(m1.body.events[0] as Event, T + 1000),
    ]);
    expect(await keys(`_pending/property_id=${a}/`)).toEqual([pendingKey(pa), pendingKey(pa10)].sort());
    const object = await env.ARCHIVE_BUCKET.head(batchFileKey(pa, both));
    expect(object?.httpMetadata?.contentType).toBe("application/vnd.apache.parquet");
  });

  it("overwrites its own files when a batch is redelivered, adding nothing", async () => {
    const p = `UA-ARCR-${run}`;
    const batch = [message("r1", [ev(p, 1), ev(p, 2)]), message("r2", [ev(p, 3)])];
    await deliver(batch);
    const before = await listAll(store(), `events/property_id=${p}/`);
    const again = await deliver(batch.map((m) => ({ ...m, attempts: 2 })));
    expect(again.explicitAcks).toHaveLength(2);
    const after = await listAll(store(), `events/property_id=${p}/`);
    expect(after.map((o) => [o.key, o.etag, o.size])).toEqual(before.map((o) => [o.key, o.etag, o.size]));
    expect((await readFile(after[0]?.key ?? "")).map((r) => r.event_id)).toEqual([1, 2, 3].map((n) => `${run}-e${n}`));
  });

  it("retries a message that does not match the schema, with backoff, while the rest are written and acked", async () => {
    const p = `UA-ARCP-${run}`;
    const good = message("g1", [ev(p, 1)]);
    const poison = { id: `${run}-poison`, timestamp: new Date(), attempts: 3, body: { v: 1, events: "nope" } };
    const good2 = message("g2", [ev(p, 2)]);
    const batch = createMessageBatch<unknown>("archive", [good, poison, good2]);
    const retry = vi.spyOn(batch.messages[1] as Message<unknown>, "retry");
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual([good.id, good2.id]);
    expect(result.retryMessages).toEqual([{ msgId: poison.id }]);
    expect(retry).toHaveBeenCalledWith({ delaySeconds: 20 });
    const [key] = await keys(`events/property_id=${p}/`);
    expect((await readFile(key ?? "")).map((r) => r.event_id)).toEqual([`${run}-e1`, `${run}-e2`]);
  });

  it("splits a group the encoder refuses into one file per message, retrying only the message at fault", async () => {
    const p = `UA-ARCS-${run}`;
    const fine = message("s1", [ev(p, 1)]);
    // Enough events that the group's pages are compressed (smaller files are written raw).
    const refused = message(
      "s2",
      Array.from({ length: 64 }, (_, i) => ev(p, 100 + i, { page_title: "POISON-PAGE" })),
    );
    const refusing: ArchiveCodec = {
      ...zstdCodec,
      compress: (bytes) => {
        if (new TextDecoder().decode(bytes).includes("POISON-PAGE")) throw new Error("encoder refuses this page");
        return zstdCodec.compress(bytes);
      },
    };
    const batch = createMessageBatch("archive", [fine, refused]);
    await deliverArchiveBatch(batch.messages, store(), refusing);
    const result = await getQueueResult(batch, createExecutionContext());
    expect(result.explicitAcks).toEqual([fine.id]);
    expect(result.retryMessages).toEqual([{ msgId: refused.id }]);
    expect(await keys(`events/property_id=${p}/`)).toEqual([
      batchFileKey(partitionOf(p, T), await deterministicId([fine.id])),
    ]);
  });

  it("retries the messages of a group whose write fails, and acks the others", async () => {
    const ok = `UA-ARCOK-${run}`;
    const down = `UA-ARCDOWN-${run}`;
    const failing: ArchiveStore = {
      put: (key, body, onlyIf) =>
        key.includes(down) ? Promise.reject(new Error("storage unavailable")) : store().put(key, body, onlyIf),
      get: (key) => store().get(key),
      list: (prefix, cursor) => store().list(prefix, cursor),
      delete: (k) => store().delete(k),
    };
    const m1 = message("f1", [ev(ok, 1)]);
    const m2 = message("f2", [ev(ok, 2), ev(down, 3)]);
    const m3 = message("f3", [ev(down, 4)]);
    const batch = createMessageBatch("archive", [m1, m2, m3]);
    await deliverArchiveBatch(batch.messages, failing, zstdCodec);
    const result = await getQueueResult(batch, createExecutionContext());
    expect(result.explicitAcks).toEqual([m1.id]);
    expect(result.retryMessages.map((r) => r.msgId).sort()).toEqual([m2.id, m3.id]);
  });
});

describe("/collect and the archive queue", () => {
  it("sends every accepted event to the archive queue, then the same messages to the events queue", async () => {
    const property = `UA-ARCQ-${run}`;
    await createProperty({ property_id: property });
    const archive = vi.spyOn(env.ARCHIVE_QUEUE, "sendBatch");
    const events = vi.spyOn(env.EVENTS_QUEUE, "sendBatch");
    const res = await call("/collect", {
      method: "POST",
      body: JSON.stringify([
        { property_id: property, client_id: "c", event_type: "pageview", page_url: "https://example.com/" },
        { property_id: property, client_id: "c", event_type: "signup", page_url: "https://example.com/x" },
      ]),
    });
    expect(res.status).toBe(202);
    const bodies = (spy: typeof archive) => spy.mock.calls.flatMap(([batch]) => [...batch].map((m) => sentMessage(m)));
    expect(bodies(archive)).toHaveLength(1);
    expect(bodies(archive)[0]?.events).toHaveLength(2);
    expect(bodies(archive)).toEqual(bodies(events));
    expect(archive.mock.invocationCallOrder[0]).toBeLessThan(events.mock.invocationCallOrder[0] ?? 0);
  });

  it("answers 503 and queues nothing live when the archive queue refuses the events", async () => {
    const property = `UA-ARCQD-${run}`;
    await createProperty({ property_id: property });
    vi.spyOn(env.ARCHIVE_QUEUE, "sendBatch").mockRejectedValue(new Error("queue unavailable"));
    const live = vi.spyOn(env.EVENTS_QUEUE, "sendBatch");
    const res = await call("/collect", {
      method: "POST",
      body: JSON.stringify({
        property_id: property,
        client_id: "c",
        event_type: "pageview",
        page_url: "https://example.com/",
      }),
    });
    expect(res.status).toBe(503);
    expect((await envelope(res)).error.code).toBe("queue_unavailable");
    expect(live).not.toHaveBeenCalled();
  });
});

describe("the compaction Cron Trigger", () => {
  it("merges a closed hour's batch files in R2 into a compacted file and a manifest", async () => {
    const p = `UA-ARCC-${run}`;
    // Three hours ago: closed, and still within what /collect would accept.
    const hour = Math.floor((Date.now() - 3 * HOUR_MS) / HOUR_MS) * HOUR_MS;
    const at = (n: number) => ev(p, n, { event_timestamp: hour + n * 1000 });
    await deliver([message("c1", [at(1), at(2)])]);
    await deliver([message("c2", [at(3)]), message("c3", [at(4)])]);
    const partition = partitionOf(p, hour);
    expect((await keys(`events/property_id=${p}/`)).map(fileKind)).toEqual(["batch", "batch"]);

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "10 * * * *", scheduledTime: Date.now() }), env, ctx);

    const after = await keys(`events/property_id=${p}/`);
    expect(after.map(fileKind).sort()).toEqual(["compacted", "manifest"]);
    const manifest = ArchiveManifestSchema.parse(await (await env.ARCHIVE_BUCKET.get(manifestKey(partition)))?.json());
    expect(manifest).toMatchObject({ rows: 4, min_event_timestamp: hour + 1000, max_event_timestamp: hour + 4000 });
    expect((await readFile(manifest.files[0]?.key ?? "")).map((r) => r.event_id)).toEqual(
      [1, 2, 3, 4].map((n) => `${run}-e${n}`),
    );
    expect(await keys(pendingKey(partition))).toEqual([]);
  });
});
