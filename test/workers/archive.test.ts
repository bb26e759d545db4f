/**
 * archive-integration: the events consumer archives each batch first, as Parquet files
 * in Miniflare's R2 (the ARCHIVE_BUCKET binding) — key, exact read-back, redelivery, a failed write
 * holding the batch back from the actors and ClickHouse, per-message isolation of what the encoder
 * refuses, small property-hours pooled per hour — then the Cron Trigger compacting it, through the
 * same binding, duplicates from redeliveries collapsed.
 */
import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type Archive, deliverBatch, deliverInChunks } from "../../consumers/events-consumer.ts";
import { ARCHIVE_CRON } from "../../consumers/schedule.ts";
import {
  ArchiveManifestSchema,
  type ArchiveRecord,
  batchFileKey,
  deterministicId,
  manifestKey,
  partitionOf,
  pendingKey,
  toArchiveRecord,
} from "../../core/archive/layout.ts";
import { type ArchiveCodec, decodeArchiveFile } from "../../core/archive/parquet.ts";
import { type ArchiveStore, listAll } from "../../core/archive/store.ts";
import { type Event, POOLED_ARCHIVE_ID } from "../../core/event.ts";
import type { EventsMessage } from "../../core/ingest/queue-message.ts";
import { HOUR_MS } from "../../core/time.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { applyToActors } from "../../durable-objects/client.ts";
import { R2ArchiveStore } from "../../platform/archive/r2-store.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";
import type { EventSink } from "../../platform/clickhouse-sink.ts";
import worker from "../../workers/main.ts";

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

/** The real consumer, as the events queue delivers a batch: archive, actors, ClickHouse. */
async function deliver(messages: ReturnType<typeof message>[]) {
  const batch = createMessageBatch("events", messages);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

/** A sink that records what reaches it: these tests are about what happens before ClickHouse. */
function recordingSink(): EventSink & { rows: number } {
  const sink = {
    rows: 0,
    insert: async (rows: readonly unknown[]) => {
      sink.rows += rows.length;
    },
    insertSessionLog: async () => {},
    loggedSessions: async () => [],
    storedEventIds: async () => new Set<string>(),
  };
  return sink;
}

async function readFile(key: string): Promise<ArchiveRecord[]> {
  const object = await env.ARCHIVE_BUCKET.get(key);
  if (!object) throw new Error(`${key} is missing`);
  return decodeArchiveFile(new Uint8Array(await object.arrayBuffer()), zstdCodec);
}

/** The pooled file a delivery of these messages writes for the hour of `at`. */
async function pooledKey(at: number, messageIds: string[]): Promise<string> {
  return batchFileKey(partitionOf(POOLED_ARCHIVE_ID, at), await deterministicId(messageIds));
}

async function keys(prefix: string): Promise<string[]> {
  return (await listAll(store(), prefix)).map((o) => o.key).sort();
}

/** The archive's Cron Trigger: compaction, then the privacy passes (the warehouse's runs at :40, test/workers/warehouse-load.test.ts). */
async function cron() {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: ARCHIVE_CRON, scheduledTime: Date.now() }), env, ctx);
}

describe("the events consumer's archive write", () => {
  it("writes small property-hours as one pooled file per hour, keyed by the message ids, that reads back exactly", async () => {
    const a = `UA-ARCA-${run}`;
    const b = `UA-ARCB-${run}`;
    const m1 = message("w1", [ev(a, 2), ev(b, 3), ev(a, HOUR_MS + 5)]);
    const m2 = message("w2", [ev(a, 1, { custom_metrics: { revenue: 9.99 }, user_id: "u1", referrer: "" })], 1, T + 7);
    const result = await deliver([m1, m2]);
    expect(result.explicitAcks.sort()).toEqual([m1.id, m2.id]);
    expect(result.retryMessages).toEqual([]);

    const key = await pooledKey(T, [m2.id, m1.id]);
    expect(key).toMatch(/^events\/property_id=tally-pooled\/dt=2026-11-26\/hour=09\/batch-[0-9a-f]{32}\.parquet$/);
    // In time order; each with its own message's received_at; absent fields stay absent.
    expect(await readFile(key)).toEqual([
      toArchiveRecord(m2.body.events[0] as Event, T + 7),
      toArchiveRecord(m1.body.events[0] as Event, T + 1000),
      toArchiveRecord(m1.body.events[1] as Event, T + 1000),
    ]);
    expect((await readFile(await pooledKey(T + HOUR_MS, [m1.id, m2.id]))).map((r) => r.event_id)).toEqual([
      `${run}-e${HOUR_MS + 5}`,
    ]);
    // A few events a property-hour: no files of their own, and the hours are marked for compaction.
    expect(await keys(`events/property_id=${a}/`)).toEqual([]);
    expect(await keys(pendingKey(partitionOf(POOLED_ARCHIVE_ID, T)))).toHaveLength(1);
    const object = await env.ARCHIVE_BUCKET.head(key);
    expect(object?.httpMetadata?.contentType).toBe("application/vnd.apache.parquet");
  });

  it("overwrites its own files when a batch is redelivered, adding nothing", async () => {
    const p = `UA-ARCR-${run}`;
    const batch = [message("r1", [ev(p, 1), ev(p, 2)]), message("r2", [ev(p, 3)])];
    await deliver(batch);
    const key = await pooledKey(
      T,
      batch.map((m) => m.id),
    );
    const before = await store().list(key);
    const again = await deliver(batch.map((m) => ({ ...m, attempts: 2 })));
    expect(again.explicitAcks).toHaveLength(2);
    const after = await store().list(key);
    expect(after.objects.map((o) => [o.key, o.size])).toEqual(before.objects.map((o) => [o.key, o.size]));
    expect((await readFile(key)).map((r) => r.event_id)).toEqual([1, 2, 3].map((n) => `${run}-e${n}`));
  });

  it("acts on nothing when the archive write fails: every message is retried, no actor or ClickHouse sees it", async () => {
    const p = `UA-ARCDOWN-${run}`;
    const down: Archive = {
      store: {
        put: () => Promise.reject(new Error("storage unavailable")),
        get: (key) => store().get(key),
        list: (prefix, cursor) => store().list(prefix, cursor),
        delete: (k) => store().delete(k),
      } satisfies ArchiveStore,
      codec: zstdCodec,
    };
    const sink = recordingSink();
    let annotated = 0;
    const m1 = message("d1", [ev(p, 1)]);
    const m2 = message("d2", [ev(p, 2)]);
    const batch = createMessageBatch("events", [m1, m2]);
    await deliverBatch(
      batch.messages,
      sink,
      async (events) => {
        annotated += events.length;
        return applyToActors(env, events, Date.now());
      },
      down,
    );
    const result = await getQueueResult(batch, createExecutionContext());
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((r) => r.msgId).sort()).toEqual([m1.id, m2.id]);
    expect(annotated).toBe(0);
    expect(sink.rows).toBe(0);
  });

  it("retries only a message the encoder refuses; the rest are archived, then acted on", async () => {
    const p = `UA-ARCS-${run}`;
    const fine = message("s1", [ev(p, 1)]);
    // Enough events that the pages are compressed (smaller files are written raw).
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
    const sink = recordingSink();
    const batch = createMessageBatch("events", [fine, refused]);
    await deliverBatch(batch.messages, sink, (events) => applyToActors(env, events, Date.now()), {
      store: store(),
      codec: refusing,
    });
    const result = await getQueueResult(batch, createExecutionContext());
    expect(result.explicitAcks).toEqual([fine.id]);
    expect(result.retryMessages).toEqual([{ msgId: refused.id }]);
    expect((await readFile(await pooledKey(T, [fine.id]))).map((r) => r.event_id)).toEqual([`${run}-e1`]);
    expect(sink.rows).toBe(1);
  });
});

describe("the events consumer's chunks", () => {
  it("splits a batch into runs of at most the byte bound of event JSON, compressed bodies measured decoded", async () => {
    const p = `UA-ARCK-${run}`;
    const text = (id: string, n: number) => {
      const body = JSON.stringify({ v: 1, received_at: T, events: Array.from({ length: n }, (_, i) => ev(p, i)) });
      return { id: `${run}-${id}`, timestamp: new Date(), attempts: 1, body };
    };
    const batch = createMessageBatch("events", [text("k1", 3), text("k2", 3), text("k3", 3), text("k4", 9)]);
    const one = JSON.stringify((batch.messages[0] as Message<unknown>).body).length;
    // Each run reaches the actors as one call: its events' count tells the runs apart (3 a message, 9 for k4).
    const runs = async (limit?: number) => {
      const sizes: number[] = [];
      await deliverInChunks(
        batch.messages,
        recordingSink(),
        async (events) => {
          sizes.push(events.length);
          return applyToActors(env, events, Date.now());
        },
        { store: store(), codec: zstdCodec },
        limit,
      );
      return sizes;
    };
    // k1 + k2, then k3 (a third would pass the bound), then k4 alone (larger than the bound).
    expect(await runs(2 * one + 10)).toEqual([6, 3, 9]);
    expect(await runs()).toEqual([18]);
  });

  it("retries the later chunks, undelivered, when a chunk reached the actors but not ClickHouse", async () => {
    const p = `UA-ARCST-${run}`;
    const batch = createMessageBatch("events", [
      message("st1", [ev(p, 901)]),
      message("st2", [ev(p, 902)]),
      message("st3", [ev(p, 903)]),
    ]);
    let inserts = 0;
    const failingOnce: EventSink = {
      ...recordingSink(),
      insert: async () => {
        inserts++;
        throw new Error("ClickHouse unreachable");
      },
    };
    const annotated: number[] = [];
    const one = JSON.stringify((batch.messages[0] as Message<unknown>).body).length;
    await deliverInChunks(
      batch.messages,
      failingOnce,
      async (events) => {
        annotated.push(events.length);
        return applyToActors(env, events, Date.now());
      },
      { store: store(), codec: zstdCodec },
      one,
    );
    const result = await getQueueResult(batch, createExecutionContext());
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((r) => r.msgId).sort()).toEqual(batch.messages.map((m) => m.id).sort());
    // The first chunk reached the actors and failed in ClickHouse; the others waited.
    expect(annotated).toEqual([1]);
    expect(inserts).toBe(1);
  });
});

describe("the archive's Cron Trigger", () => {
  it("compacts closed hours, the pooled one included; a regrouped redelivery's copies collapse", async () => {
    const p = `UA-ARCC-${run}`;
    const q = `UA-ARCD-${run}`;
    // Three hours ago: closed, and still within what /collect would accept.
    const hour = Math.floor((Date.now() - 3 * HOUR_MS) / HOUR_MS) * HOUR_MS;
    const at = (property: string, n: number) => ev(property, n, { event_timestamp: hour + n * 1000 });
    const c1 = message("c1", [at(p, 1), at(q, 2)]);
    const c2 = message("c2", [at(p, 3)]);
    const c3 = message("c3", [at(p, 4)]);
    await deliver([c1, c2]);
    // c2 again, regrouped with another message: a second file holds a copy of its event.
    await deliver([{ ...c2, attempts: 2 }, c3]);
    await cron();
    // A few events per property-hour: pooled into the hour's one file set, not a file per property.
    expect(await keys(`events/property_id=${p}/`)).toEqual([]);
    const pooled = partitionOf(POOLED_ARCHIVE_ID, hour);
    const manifest = ArchiveManifestSchema.parse(await (await env.ARCHIVE_BUCKET.get(manifestKey(pooled)))?.json());
    const ours = (await Promise.all(manifest.files.map((f) => readFile(f.key))))
      .flat()
      .filter((r) => r.property_id === p || r.property_id === q)
      .map((r) => `${r.property_id === p ? "p" : "q"}:${r.event_id}`);
    // c2's second copy is gone: one row per event_id.
    expect(ours.sort()).toEqual([`p:${run}-e1`, `p:${run}-e3`, `p:${run}-e4`, `q:${run}-e2`].sort());
    expect(await keys(pendingKey(pooled))).toEqual([]);
  });
});
