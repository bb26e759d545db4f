/**
 * Which batches move a property's data versions, through the real actors (durable-objects/client.ts
 * → PropertyDO.applyLive): a redelivery regrouped with fresh events brings late repeats the
 * actors have seen but ClickHouse may lack, so ranges that ended must be asked again (issue #15).
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { applyToActors } from "../../durable-objects/client.ts";
import { createProperty } from "./helpers.ts";

it("late repeats regrouped with fresh events move the history version", async () => {
  const id = "UA-VERSIONS-1";
  await createProperty({ property_id: id });
  const stub = env.PROPERTY_DO.getByName(id);
  const now = Date.now();
  const late = makeEvent({ property_id: id, event_id: "late-1", event_timestamp: now - 3_600_000 });
  await applyToActors(env, [late], now);
  const before = (await stub.admitQuery(Date.now(), 1_000)).data;
  const fresh = makeEvent({ property_id: id, client_id: "c2", event_id: "fresh-1", event_timestamp: now });
  await applyToActors(env, [late, fresh], Date.now());
  const after = (await stub.admitQuery(Date.now(), 1_000)).data;
  expect(after.recent.version).not.toBe(before.recent.version);
  expect(after.history.version).not.toBe(before.history.version);
});

it("an on-time batch leaves the history version alone", async () => {
  const id = "UA-VERSIONS-2";
  await createProperty({ property_id: id });
  const stub = env.PROPERTY_DO.getByName(id);
  const before = (await stub.admitQuery(Date.now(), 1_000)).data;
  await applyToActors(
    env,
    [makeEvent({ property_id: id, event_id: "on-time", event_timestamp: Date.now() })],
    Date.now(),
  );
  const after = (await stub.admitQuery(Date.now(), 1_000)).data;
  expect(after.recent.version).not.toBe(before.recent.version);
  expect(after.history.version).toBe(before.history.version);
});
