/**
 * archive-s3-integration: with ARCHIVE_S3_* configured the events consumer archives through
 * @aws-sdk/client-s3 instead of the R2 binding — here against the run's local S3-compatible server
 * (s3rver, started by test/support/global-setup.ts), from inside workerd.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { batchFileKey, deterministicId, partitionOf, toArchiveRecord } from "../../core/archive/layout.ts";
import { decodeArchiveFile } from "../../core/archive/parquet.ts";
import { POOLED_ARCHIVE_ID } from "../../core/event.ts";
import type { EventsMessage } from "../../core/ingest/queue-message.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { S3ArchiveStore } from "../../platform/archive/s3-store.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";
import worker from "../../workers/main.ts";

const testEnv = env as typeof env & { TEST_ARCHIVE_S3_ENDPOINT: string };
const S3 = {
  ARCHIVE_S3_ENDPOINT: testEnv.TEST_ARCHIVE_S3_ENDPOINT,
  ARCHIVE_S3_BUCKET: "tally-archive-test",
  ARCHIVE_S3_ACCESS_KEY_ID: "S3RVER",
  ARCHIVE_S3_SECRET_ACCESS_KEY: "S3RVER",
};
const run = crypto.randomUUID().slice(0, 8);
const T = Date.UTC(2026, 10, 26, 14, 5);

const s3 = () =>
  new S3ArchiveStore({
    endpoint: S3.ARCHIVE_S3_ENDPOINT,
    bucket: S3.ARCHIVE_S3_BUCKET,
    region: "auto",
    accessKeyId: S3.ARCHIVE_S3_ACCESS_KEY_ID,
    secretAccessKey: S3.ARCHIVE_S3_SECRET_ACCESS_KEY,
  });

async function deliver(messages: { id: string; body: EventsMessage; attempts?: number }[]) {
  const batch = createMessageBatch(
    "events",
    messages.map(({ id, body, attempts = 1 }) => ({ id, body, attempts, timestamp: new Date() })),
  );
  const ctx = createExecutionContext();
  // A fresh env object: the config (and so the store) is chosen per env.
  await worker.queue(batch, { ...env, ...S3 }, ctx);
  return getQueueResult(batch, ctx);
}

describe("the archive write over the S3 API", () => {
  it("writes the batch's Parquet file to the S3 bucket, not R2, and it reads back exactly", async () => {
    const property = `UA-S3-${run}`;
    const events = [1, 2, 3].map((n) =>
      makeEvent({ property_id: property, event_id: `${run}-${n}`, event_timestamp: T + n, user_id: `u${n}` }),
    );
    const m = { id: `${run}-m1`, body: { v: 1, received_at: T + 99, events } satisfies EventsMessage };
    const result = await deliver([m]);
    expect(result.explicitAcks).toEqual([m.id]);
    expect(result.retryMessages).toEqual([]);

    const key = batchFileKey(partitionOf(POOLED_ARCHIVE_ID, T), await deterministicId([m.id]));
    expect((await s3().list(key)).objects.map((o) => o.key)).toEqual([key]);
    const object = await s3().get(key);
    expect(await decodeArchiveFile(object?.body ?? new Uint8Array(), zstdCodec)).toEqual(
      events.map((e) => toArchiveRecord(e, T + 99)),
    );
    expect(await env.ARCHIVE_BUCKET.head(key)).toBeNull();
  });

  it("overwrites the same object when the batch is redelivered", async () => {
    const property = `UA-S3R-${run}`;
    const m = {
      id: `${run}-r1`,
      body: {
        v: 1,
        received_at: T,
        events: [makeEvent({ property_id: property, event_id: `${run}-r`, event_timestamp: T })],
      },
    } satisfies { id: string; body: EventsMessage };
    await deliver([m]);
    const key = batchFileKey(partitionOf(POOLED_ARCHIVE_ID, T), await deterministicId([m.id]));
    const before = (await s3().list(key)).objects;
    const again = await deliver([{ ...m, attempts: 2 }]);
    expect(again.explicitAcks).toEqual([m.id]);
    const after = (await s3().list(key)).objects;
    expect(after.map((o) => [o.key, o.size])).toEqual(before.map((o) => [o.key, o.size]));
    expect(after).toHaveLength(1);
  });

  it("retries every message when the S3 store cannot be reached", async () => {
    const m = {
      id: `${run}-down`,
      body: { v: 1, received_at: T, events: [makeEvent({ property_id: `UA-S3D-${run}` })] } satisfies EventsMessage,
    };
    const batch = createMessageBatch("events", [{ ...m, attempts: 1, timestamp: new Date() }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...env, ...S3, ARCHIVE_S3_ENDPOINT: "http://127.0.0.1:9" }, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toEqual([{ msgId: m.id }]);
  });
});
