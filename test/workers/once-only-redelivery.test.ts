/**
 * Once-only on redelivery (#15), in workerd against the real engine: a batch whose writes all
 * landed but whose ack was lost comes back regrouped — with a new message, in another batch, so
 * with new insert tokens — and carries a visitor with more events than the session actors
 * remember (32 ids). Every table and report must equal a control property's that got each message
 * once.
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import type { Event } from "../../core/event.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { createClickHouseSink, type EventSink } from "../../platform/clickhouse-sink.ts";
import { loadConfig } from "../../platform/config.ts";
import { deliverThroughActors, type SentMessage } from "./consumer-support.ts";
import { createProperty, YESTERDAY_10H } from "./helpers.ts";
import { figures } from "./once-only-support.ts";

const run = crypto.randomUUID().slice(0, 8);
const day = new Date(YESTERDAY_10H).toISOString().slice(0, 10);

/** Three messages: alice's 50 pageviews in one visit, bob's two visits, carol's one page. */
function traffic(property: string): [Event[], Event[], Event[]] {
  const ev = (id: string, client: string, minutes: number, path: string) =>
    makeEvent({
      property_id: property,
      event_id: `${property}-${id}`,
      client_id: `${property}-${client}`,
      event_timestamp: YESTERDAY_10H + minutes * 60_000,
      page_path: path,
    });
  return [
    [...Array.from({ length: 50 }, (_, i) => ev(`a${i}`, "alice", i, `/a/${i % 4}`)), ev("b1", "bob", 2, "/")],
    [ev("b2", "bob", 90, "/pricing"), ev("b3", "bob", 91, "/signup")],
    [ev("c1", "carol", 30, "/")],
  ];
}

/** Every write lands, then the isolate dies before the ack: the queue will deliver again. */
function dyingAfterWrites(real: EventSink): EventSink {
  let writes = 0;
  const die = () => {
    writes += 1;
    if (writes === 2) throw new Error("isolate evicted");
  };
  return {
    ...real,
    insert: async (rows, token) => {
      await real.insert(rows, token);
      die();
    },
    insertSessionLog: async (rows, token) => {
      await real.insertSessionLog(rows, token);
      die();
    },
  };
}

const deliver = (messages: SentMessage[], sink: EventSink) =>
  deliverThroughActors(messages, sink, YESTERDAY_10H + 3_600_000);

it("a delivered batch redelivered regrouped with a new message, its visitor past the actors' memory: counted once", async () => {
  const real = createClickHouseSink(loadConfig(env));
  const control = await createProperty({ property_id: `RC-${run}` });
  const faulted = await createProperty({ property_id: `RF-${run}` });
  const [c0, c1, c2] = traffic(control.property_id);
  await deliver(
    [
      { id: `${run}-c0`, events: c0, attempts: 1 },
      { id: `${run}-c1`, events: c1, attempts: 1 },
    ],
    real,
  );
  await deliver([{ id: `${run}-c2`, events: c2, attempts: 1 }], real);

  const [f0, f1, f2] = traffic(faulted.property_id);
  const lost = await deliver(
    [
      { id: `${run}-f0`, events: f0, attempts: 1 },
      { id: `${run}-f1`, events: f1, attempts: 1 },
    ],
    dyingAfterWrites(real),
  );
  expect(lost.retryMessages).toHaveLength(2);
  // The queue hands them back apart, each with a message it had not delivered before.
  const again = await deliver(
    [
      { id: `${run}-f0`, events: f0, attempts: 2 },
      { id: `${run}-f2`, events: f2, attempts: 1 },
    ],
    real,
  );
  expect(again.explicitAcks.sort()).toEqual([`${run}-f0`, `${run}-f2`]);
  expect((await deliver([{ id: `${run}-f1`, events: f1, attempts: 3 }], real)).explicitAcks).toEqual([`${run}-f1`]);

  const expected = await figures(control.property_id, day, day);
  expect(expected.events).toEqual([{ n: 54, ids: 54, visitors: 3, pageviews: 54 }]);
  expect(expected.sessions).toMatchObject([{ visits: 4, pageviews: 54 }]);
  expect(await figures(faulted.property_id, day, day)).toEqual(expected);
}, 60_000);
