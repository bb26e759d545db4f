/**
 * Fault tests for the session actors' write-behind log (#14), in workerd: every Durable Object is
 * aborted between two consumer batches — in-memory state gone, storage kept, as after an eviction
 * or a crash — and every report ends equal to the same traffic sent without the fault.
 */
import { abortAllDurableObjects } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Event } from "../../core/event.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { consumeMessage, createProperty, overviewFigures, YESTERDAY_10H } from "./helpers.ts";

const run = crypto.randomUUID().slice(0, 8);
const base = YESTERDAY_10H;
const day = new Date(base).toISOString().slice(0, 10);

/** Three visitors; the second batch continues their visits, repeats one event, and starts a new visit. */
function traffic(property: string): [Event[], Event[]] {
  const ev = (id: string, client: string, minutes: number, path: string) =>
    makeEvent({
      property_id: property,
      event_id: `${property}-${id}`,
      client_id: `${property}-${client}`,
      event_timestamp: base + minutes * 60_000,
      page_path: path,
    });
  const first = [ev("a1", "alice", 0, "/"), ev("b1", "bob", 1, "/"), ev("c1", "carol", 2, "/pricing")];
  const second = [
    ev("a2", "alice", 5, "/pricing"), // same visit
    ev("b1", "bob", 1, "/"), // a repeat: must not count twice
    ev("c2", "carol", 90, "/"), // after 30 minutes idle: a new visit
    ev("a3", "alice", 8, "/signup"),
  ];
  return [first, second];
}

describe("session actors under faults", () => {
  it("an actor aborted between two batches loses nothing: every report equals the run without the fault", async () => {
    const control = await createProperty({ property_id: `FC-${run}` });
    const faulted = await createProperty({ property_id: `FF-${run}` });
    const [c1, c2] = traffic(control.property_id);
    const [f1, f2] = traffic(faulted.property_id);
    await consumeMessage(`${run}-c1`, c1);
    await consumeMessage(`${run}-c2`, c2);
    await consumeMessage(`${run}-f1`, f1);
    // In-memory state of every actor is gone; what each call committed before answering remains.
    await abortAllDurableObjects();
    await consumeMessage(`${run}-f2`, f2);
    const expected = await overviewFigures(control, day);
    expect(expected).toMatchObject({ visitors: 3, visits: 4, pageviews: 6 });
    expect(await overviewFigures(faulted, day)).toEqual(expected);
  });
});
