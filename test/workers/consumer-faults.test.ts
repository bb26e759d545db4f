/**
 * Fault tests for the consumer's hand-offs (#14), in workerd against the real engine, each ending
 * with every report equal to a run without the fault — nothing lost, nothing counted twice:
 * ClickHouse refusing every insert for several deliveries (as through a 60 s outage, the queue
 * retrying with backoff); the consumer dying after its writes and before the ack; a batch
 * redelivered regrouped with other messages (a new insert token, so only the consumer's check of
 * what ClickHouse holds keeps its events from being written twice).
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import type { Event } from "../../core/event.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { createClickHouseSink, type EventSink } from "../../platform/clickhouse-sink.ts";
import { loadConfig } from "../../platform/config.ts";
import { deliverThroughActors } from "./consumer-support.ts";
import { createProperty, overviewFigures, YESTERDAY_10H } from "./helpers.ts";

const run = crypto.randomUUID().slice(0, 8);
const base = YESTERDAY_10H;
const day = new Date(base).toISOString().slice(0, 10);

function traffic(property: string): Event[][] {
  const ev = (id: string, client: string, minutes: number, path: string) =>
    makeEvent({
      property_id: property,
      event_id: `${property}-${id}`,
      client_id: `${property}-${client}`,
      event_timestamp: base + minutes * 60_000,
      page_path: path,
    });
  return [
    [ev("a1", "alice", 0, "/"), ev("b1", "bob", 1, "/"), ev("a2", "alice", 3, "/pricing")],
    [ev("c1", "carol", 5, "/"), ev("a3", "alice", 6, "/signup"), ev("b2", "bob", 50, "/")],
  ];
}

/**
 * Everything lands (archive, actors, ClickHouse: session_log, then events, the last write), then
 * the isolate dies: no ack reaches the queue.
 */
function dyingAfterWrites(real: EventSink): EventSink {
  return {
    ...real,
    insert: async (rows, token) => {
      await real.insert(rows, token);
      throw new Error("isolate evicted");
    },
  };
}

async function deliver(id: string, events: Event[], attempts: number, sink: EventSink) {
  return deliverThroughActors([{ id, events, attempts }], sink);
}

it("ClickHouse refusing inserts for several deliveries: once it accepts, every report equals the run without the fault", async () => {
  const real = createClickHouseSink(loadConfig(env));
  const refusing: EventSink = {
    insert: async () => Promise.reject(new Error("Connection refused")),
    insertSessionLog: async () => Promise.reject(new Error("Connection refused")),
    loggedSessions: async () => Promise.reject(new Error("Connection refused")),
    storedEventIds: async () => Promise.reject(new Error("Connection refused")),
  };
  const control = await createProperty({ property_id: `CC-${run}` });
  const faulted = await createProperty({ property_id: `CF-${run}` });
  for (const [i, events] of traffic(control.property_id).entries()) await deliver(`${run}-c${i}`, events, 1, real);
  for (const [i, events] of traffic(faulted.property_id).entries()) {
    const id = `${run}-f${i}`;
    // Five refused deliveries (the queue's backoff spans about a minute), then ClickHouse is back.
    for (let attempt = 1; attempt <= 5; attempt++)
      expect((await deliver(id, events, attempt, refusing)).retryMessages).toHaveLength(1);
    expect((await deliver(id, events, 6, real)).explicitAcks).toEqual([id]);
  }
  const expected = await overviewFigures(control, day);
  expect(expected).toMatchObject({ visitors: 3, visits: 4, pageviews: 6 });
  expect(await overviewFigures(faulted, day)).toEqual(expected);
});

it("the consumer dying after its writes and before the ack: the redelivery changes no report", async () => {
  const real = createClickHouseSink(loadConfig(env));
  const dying = dyingAfterWrites(real);
  const control = await createProperty({ property_id: `DC-${run}` });
  const faulted = await createProperty({ property_id: `DF-${run}` });
  for (const [i, events] of traffic(control.property_id).entries()) await deliver(`${run}-dc${i}`, events, 1, real);
  for (const [i, events] of traffic(faulted.property_id).entries()) {
    const id = `${run}-df${i}`;
    expect((await deliver(id, events, 1, dying)).retryMessages).toHaveLength(1);
    expect((await deliver(id, events, 2, real)).explicitAcks).toEqual([id]);
  }
  const expected = await overviewFigures(control, day);
  expect(expected).toMatchObject({ visitors: 3, visits: 4, pageviews: 6 });
  expect(await overviewFigures(faulted, day)).toEqual(expected);
});

it("a batch redelivered regrouped with other messages: no event is written twice", async () => {
  const real = createClickHouseSink(loadConfig(env));
  const control = await createProperty({ property_id: `GC-${run}` });
  const faulted = await createProperty({ property_id: `GF-${run}` });
  const [first = [], second = []] = traffic(control.property_id);
  await deliverThroughActors(
    [
      { id: `${run}-gc0`, events: first, attempts: 1 },
      { id: `${run}-gc1`, events: second, attempts: 1 },
    ],
    real,
  );
  const [f0 = [], f1 = []] = traffic(faulted.property_id);
  const dying = dyingAfterWrites(real);
  // Both messages land in one batch whose ack is lost; the queue hands them back one per batch.
  await deliverThroughActors(
    [
      { id: `${run}-gf0`, events: f0, attempts: 1 },
      { id: `${run}-gf1`, events: f1, attempts: 1 },
    ],
    dying,
  );
  expect((await deliver(`${run}-gf0`, f0, 2, real)).explicitAcks).toEqual([`${run}-gf0`]);
  expect((await deliver(`${run}-gf1`, f1, 2, real)).explicitAcks).toEqual([`${run}-gf1`]);
  const expected = await overviewFigures(control, day);
  expect(expected).toMatchObject({ visitors: 3, visits: 4, pageviews: 6 });
  expect(await overviewFigures(faulted, day)).toEqual(expected);
});

it("two copies of one event, both redelivered after ClickHouse refused them: written once", async () => {
  const real = createClickHouseSink(loadConfig(env));
  const refusing: EventSink = {
    ...real,
    insert: async () => Promise.reject(new Error("Connection refused")),
  };
  const control = await createProperty({ property_id: `TC-${run}` });
  const faulted = await createProperty({ property_id: `TF-${run}` });
  for (const [i, events] of traffic(control.property_id).entries()) await deliver(`${run}-tc${i}`, events, 1, real);
  for (const [i, events] of traffic(faulted.property_id).entries()) {
    const id = `${run}-tf${i}`;
    // A client retried after a 503 whose send had landed: the message carries one event twice.
    const copied = [...events, { ...(events[0] as Event) }];
    expect((await deliver(id, copied, 1, refusing)).retryMessages).toHaveLength(1);
    expect((await deliver(id, copied, 2, real)).explicitAcks).toEqual([id]);
  }
  const expected = await overviewFigures(control, day);
  expect(expected).toMatchObject({ visitors: 3, visits: 4, pageviews: 6 });
  expect(await overviewFigures(faulted, day)).toEqual(expected);
});
