/**
 * A deleted property's erasure resets every one of its session actors, however many it had: the
 * count comes from the tombstone (the configuration is gone by then), not the deployment's default
 * SESSION_BUCKETS, which would leave the actors past it holding visitors.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import type { ErasureStatus } from "../../core/privacy/erasure.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { sessionActorKey } from "../../durable-objects/client.ts";
import { loadConfig } from "../../platform/config.ts";
import { ADMIN, call, consumeMessage, createProperty } from "./helpers.ts";

const run = crypto.randomUUID().slice(0, 8);
const SHARDS = 200;

it("resets the session actors past SESSION_BUCKETS of a deleted property with more session shards", {
  // ClickHouse runs a table's DELETEs one at a time and workers files share one database: this waits behind others' erasures.
  timeout: 180_000,
}, async () => {
  const fallback = loadConfig(env).SESSION_BUCKETS;
  expect(SHARDS).toBeGreaterThan(fallback);
  const p = await createProperty({ property_id: `ES-${run}`, session_shards: SHARDS });
  // A visitor whose actor is one the default count would never reach.
  const bucket = (client: string) => Number(sessionActorKey(p.property_id, client, SHARDS).split("|")[1]);
  const client = Array.from({ length: 1_000 }, (_, i) => `${run}-v${i}`).find((c) => bucket(c) >= fallback) ?? "";
  await consumeMessage(`${run}-m`, [
    makeEvent({ property_id: p.property_id, event_id: `${run}-e1`, client_id: client, event_timestamp: Date.now() }),
  ]);
  const actor = env.SESSION_DO.getByName(sessionActorKey(p.property_id, client, SHARDS));
  expect((await actor.stats()).visitors).toBe(1);

  const res = await call(`/api/v1/properties/${p.property_id}`, { method: "DELETE", headers: ADMIN });
  expect(res.status).toBe(202);
  const { erasure_id } = await res.json<{ erasure_id: string }>();
  const stub = env.ERASURE_DO.getByName(p.property_id);
  let status: ErasureStatus | undefined;
  for (let i = 0; i < 20 && status?.state !== "done" && status?.state !== "failed"; i++)
    status = await runInDurableObject(stub, async (instance) => {
      await instance.alarm();
      return instance.status(erasure_id);
    });
  expect(status).toMatchObject({ state: "done", stores: { session_actors: { actors: SHARDS } } });
  expect((await actor.stats()).visitors).toBe(0);
});
