/**
 * Once-only under replay (#15), in workerd against the real engine: a replay (ReplayDO, started as
 * the admin route starts it) rebuilds a day that already holds data while the live path keeps
 * writing — the day's messages redelivered between the replay's clear and its hours (a stuck
 * message), new traffic for today. The day must read as before, today as a control property's.
 */
/**
 * Once-only under replay (#15), in workerd against the real engine: a replay (ReplayDO, started as
 * the admin route starts it) rebuilds a day that already holds data while the live path keeps
 * writing — the day's messages redelivered between the replay's clear and its hours (a stuck
 * message), new traffic for today. The day must read as before, today as a control property's.
 */
import { createExecutionContext, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import type { ReplayStatus } from "../../core/replay/job.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import type { ReplayDO } from "../../durable-objects/replay-do.ts";
import worker from "../../workers/main.ts";
import { eventsBatch, type SentMessage } from "./consumer-support.ts";
import { createProperty, YESTERDAY_10H } from "./helpers.ts";
import { figures } from "./once-only-support.ts";

const run = crypto.randomUUID().slice(0, 8);
const day = new Date(YESTERDAY_10H).toISOString().slice(0, 10);
const today = new Date(YESTERDAY_10H + 86_400_000).toISOString().slice(0, 10);

/** Yesterday's three visitors (alice in two messages), and today's two. */
function traffic(property: string) {
  const ev = (id: string, client: string, at: number, path: string) =>
    makeEvent({
      property_id: property,
      event_id: `${property}-${id}`,
      client_id: `${property}-${client}`,
      event_timestamp: at,
      page_path: path,
    });
  const y = (minutes: number) => YESTERDAY_10H + minutes * 60_000;
  const now = Math.max(Date.now() - 5 * 60_000, Date.parse(`${today}T00:00:00Z`));
  return {
    yesterday: [
      [ev("a1", "alice", y(0), "/"), ev("b1", "bob", y(1), "/"), ev("a2", "alice", y(3), "/pricing")],
      [ev("c1", "carol", y(5), "/"), ev("a3", "alice", y(6), "/signup"), ev("b2", "bob", y(50), "/")],
    ],
    today: [[ev("d1", "dave", now, "/"), ev("d2", "dave", now + 60_000, "/docs"), ev("e1", "erin", now, "/")]],
  };
}

async function consume(messages: SentMessage[]) {
  const batch = eventsBatch(messages, YESTERDAY_10H + 3_600_000);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  const result = await getQueueResult(batch, ctx);
  expect(result.retryMessages).toEqual([]);
}

const replay = () => env.REPLAY_DO.getByName("global");

/** Starts a job with its alarm taken away, so the test decides when each step runs. */
async function startReplay(property: string): Promise<void> {
  await runInDurableObject(replay(), async (instance: ReplayDO, state) => {
    const { started } = await instance.start({ from: day, to: day, property, target: "clickhouse" }, Date.now());
    expect(started).toBe(true);
    await state.storage.deleteAlarm();
  });
}

/** One alarm's work (the clear, then up to six hours), its next alarm taken away. */
async function step(): Promise<ReplayStatus | undefined> {
  return runInDurableObject(replay(), async (instance: ReplayDO, state) => {
    await instance.alarm();
    await state.storage.deleteAlarm();
    return instance.status();
  });
}

it("replaying a day that holds data, while its messages are redelivered and today's traffic arrives: the day reads as before", async () => {
  const control = await createProperty({ property_id: `PC-${run}` });
  const replayed = await createProperty({ property_id: `PR-${run}` });
  const c = traffic(control.property_id);
  const r = traffic(replayed.property_id);
  const yesterday = (p: string, t: ReturnType<typeof traffic>, attempts: number) =>
    t.yesterday.map((events, i) => ({ id: `${p}-y${i}`, events, attempts }));
  await consume(yesterday(control.property_id, c, 1));
  await consume(yesterday(replayed.property_id, r, 1));
  const before = await figures(replayed.property_id, day, day);
  expect(before.events).toEqual([{ n: 6, ids: 6, visitors: 3, pageviews: 6 }]);

  await startReplay(replayed.property_id);
  // The clear and the first six hours (yesterday 10:00 is not among them).
  expect(await step()).toMatchObject({ state: "running", phase: "replaying", hours_done: 6 });
  // Live traffic meanwhile: yesterday's messages again, one per batch (their ack was lost; a new
  // grouping, so new insert tokens), today's for the first time.
  for (const message of yesterday(replayed.property_id, r, 2)) await consume([message]);
  await consume(r.today.map((events, i) => ({ id: `${replayed.property_id}-t${i}`, events, attempts: 1 })));
  await consume(c.today.map((events, i) => ({ id: `${control.property_id}-t${i}`, events, attempts: 1 })));
  let status = await step();
  for (let i = 0; i < 10 && status?.state === "running"; i++) status = await step();
  expect(status).toMatchObject({ state: "done" });

  const after = await figures(replayed.property_id, day, day);
  expect(after).toEqual(await figures(control.property_id, day, day));
  // Day blocks longer than a day reach into today, which has gained traffic since: not comparable.
  const { events_rollup_days: _e, sessions_rollup_days: _s, ...rest } = before;
  expect(after).toMatchObject(rest);
  expect(await figures(replayed.property_id, today, today)).toEqual(await figures(control.property_id, today, today));
}, 120_000);
