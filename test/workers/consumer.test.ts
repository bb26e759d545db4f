/**
 * consumers/events-consumer.ts in workerd, writing to the run's real ClickHouse engine:
 * per-message ack/retry, idempotent redelivery, isolation of a message ClickHouse refuses, and
 * session_log summing to the sessions table after any sequence of batches.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createClient } from "@clickhouse/client-web";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { backoffSeconds } from "../../consumers/backoff.ts";
import { SESSION_COLUMNS } from "../../core/clickhouse-row.ts";
import type { Event } from "../../core/event.ts";
import type { EventsMessage } from "../../core/ingest/queue-message.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import worker from "../../workers/main.ts";
import { consumeMessage, consumeMessages } from "./helpers.ts";

const clickhouse = createClient({
  url: env.CLICKHOUSE_URL,
  database: env.CLICKHOUSE_DATABASE,
  keep_alive: { enabled: false },
});
const run = crypto.randomUUID().slice(0, 8);

function event(id: string, clientId = "c1"): Event {
  return makeEvent({ property_id: "UA-CONSUMER-1", client_id: clientId, event_id: `${run}-${id}` });
}

function message(id: string, events: Event[], attempts = 1) {
  const body: EventsMessage = { v: 1, received_at: Date.UTC(2026, 10, 26, 9, 31), events };
  return { id: `${run}-${id}`, timestamp: new Date(), attempts, body };
}

async function deliver(
  messages: ReturnType<typeof message>[] | { id: string; timestamp: Date; attempts: number; body: unknown }[],
  overrides: Partial<Env> = {},
) {
  const batch = createMessageBatch("events", messages);
  // getQueueResult records which messages were retried but not the delay, so watch retry() itself.
  const delays: { msgId: string; delaySeconds?: number }[] = [];
  for (const m of batch.messages) {
    const original = m.retry.bind(m);
    vi.spyOn(m, "retry").mockImplementation((options) => {
      delays.push({ msgId: m.id, delaySeconds: options?.delaySeconds });
      original(options);
    });
  }
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, ...overrides }, ctx);
  return { ...(await getQueueResult(batch, ctx)), delays };
}

async function storedIds(ids: string[], database = env.CLICKHOUSE_DATABASE): Promise<string[]> {
  const result = await clickhouse.query({
    query: `SELECT event_id FROM ${database}.events WHERE event_id IN {ids:Array(String)} ORDER BY event_id`,
    query_params: { ids: ids.map((i) => `${run}-${i}`) },
    format: "JSONEachRow",
  });
  return (await result.json<{ event_id: string }>()).map((r) => r.event_id.slice(run.length + 1));
}

describe("events consumer", () => {
  it("inserts a batch into ClickHouse and acks every message", async () => {
    const result = await deliver([message("m1", [event("a1"), event("a2")]), message("m2", [event("a3")])]);
    expect(result.explicitAcks.sort()).toEqual([`${run}-m1`, `${run}-m2`]);
    expect(result.retryMessages).toEqual([]);
    expect(result.ackAll).toBe(false);
    expect(await storedIds(["a1", "a2", "a3"])).toEqual(["a1", "a2", "a3"]);
  });

  it("writes nothing twice when the same batch is redelivered", async () => {
    const batch = [message("r1", [event("b1")]), message("r2", [event("b2")])];
    await deliver(batch);
    const again = await deliver(batch.map((m) => ({ ...m, attempts: 2 })).reverse());
    expect(again.explicitAcks).toHaveLength(2);
    expect(await storedIds(["b1", "b2"])).toEqual(["b1", "b2"]);
  });

  it("retries a malformed message with backoff and still delivers its neighbours", async () => {
    const bad = { id: `${run}-bad`, timestamp: new Date(), attempts: 3, body: { v: 1, events: "nope" } };
    const result = await deliver([bad, message("good", [event("c1")])]);
    expect(result.retryMessages).toEqual([{ msgId: `${run}-bad` }]);
    expect(result.delays).toEqual([{ msgId: `${run}-bad`, delaySeconds: backoffSeconds(3) }]);
    expect(result.explicitAcks).toEqual([`${run}-good`]);
    expect(await storedIds(["c1"])).toEqual(["c1"]);
  });

  it("retries every message with backoff when ClickHouse is unreachable", async () => {
    const result = await deliver([message("d1", [event("d1")], 1), message("d2", [event("d2")], 4)], {
      CLICKHOUSE_URL: "http://127.0.0.1:9",
    });
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((r) => r.msgId)).toEqual([`${run}-d1`, `${run}-d2`]);
    expect(result.delays).toEqual([
      { msgId: `${run}-d1`, delaySeconds: backoffSeconds(1) },
      { msgId: `${run}-d2`, delaySeconds: backoffSeconds(4) },
    ]);
  });

  it("stores an imported batch spanning more days than ClickHouse's default partition cap (100)", async () => {
    const days = Array.from({ length: 150 }, (_, d) =>
      makeEvent({
        property_id: "UA-CONSUMER-1",
        event_id: `${run}-day${d}`,
        event_timestamp: Math.floor(Date.now() / 86_400_000 - 200) * 86_400_000 + d * 86_400_000,
      }),
    );
    const result = await deliver([message("history", days)]);
    expect(result.explicitAcks).toEqual([`${run}-history`]);
    expect(await storedIds(days.map((_, d) => `day${d}`))).toHaveLength(150);
  }, 30_000);

  describe("when ClickHouse refuses one message's rows", () => {
    const database = `tally_poison_${run}`;
    beforeAll(async () => {
      await clickhouse.command({ query: `CREATE DATABASE ${database}` });
      await clickhouse.command({ query: `CREATE TABLE ${database}.events AS ${env.CLICKHOUSE_DATABASE}.events` });
      await clickhouse.command({ query: `CREATE TABLE ${database}.sessions AS ${env.CLICKHOUSE_DATABASE}.sessions` });
      await clickhouse.command({
        query: `CREATE TABLE ${database}.session_log AS ${env.CLICKHOUSE_DATABASE}.session_log`,
      });
      await clickhouse.command({
        query: `CREATE MATERIALIZED VIEW ${database}.sessions_from_log TO ${database}.sessions AS
          SELECT ${Object.keys(SESSION_COLUMNS).join(", ")} FROM ${database}.session_log WHERE sign = 1`,
      });
      await clickhouse.command({
        query: `ALTER TABLE ${database}.events ADD CONSTRAINT no_poison CHECK client_id != 'poison'`,
      });
    });

    it("isolates it: the others are stored and acked, it alone is retried", async () => {
      const result = await deliver(
        [message("p1", [event("p1")]), message("p2", [event("p2", "poison")]), message("p3", [event("p3")])],
        { CLICKHOUSE_DATABASE: database },
      );
      expect(result.explicitAcks.sort()).toEqual([`${run}-p1`, `${run}-p3`]);
      expect(result.retryMessages.map((r) => r.msgId)).toEqual([`${run}-p2`]);
      expect(await storedIds(["p1", "p2", "p3"], database)).toEqual(["p1", "p3"]);
      // p1 and p3 share a visitor: its session changes are logged once, not once per message.
      const logged = await clickhouse.query({
        query: `SELECT session_id, countIf(sign = 1) AS added FROM ${database}.session_log
          WHERE client_id = 'c1' GROUP BY session_id ORDER BY session_id`,
        format: "JSONEachRow",
      });
      const stored = await clickhouse.query({
        query: `SELECT DISTINCT session_id FROM ${database}.events WHERE client_id = 'c1' ORDER BY session_id`,
        format: "JSONEachRow",
      });
      const sessions = (await stored.json<{ session_id: string }>()).map((r) => r.session_id);
      expect(await logged.json()).toEqual(sessions.map((session_id) => ({ session_id, added: "1" })));
    });
  });
});

describe("session_log", () => {
  const property = `UA-LOG-${run}`;
  const at = Date.now();
  const ago = (minutes: number) => at - minutes * 60_000;
  const hit = (id: string, client: string, minutesAgo: number, extra: Partial<Event> = {}) =>
    makeEvent({
      property_id: property,
      client_id: `${run}-${client}`,
      event_id: `${run}-log-${id}`,
      event_timestamp: ago(minutesAgo),
      ...extra,
    });
  const id = (m: string) => `${run}-log-${m}`;

  async function query<T>(sql: string): Promise<T[]> {
    const result = await clickhouse.query({ query: sql, query_params: { p: property }, format: "JSONEachRow" });
    return result.json<T>();
  }

  /** What a sessions rollup would read from the log, and what the sessions table holds. */
  async function totals() {
    const [log] = await query<Record<string, string>>(
      `SELECT sum(sign) AS sessions, sum(sign * is_bounce) AS bounces, sum(sign * duration) AS duration,
        sum(sign * pageviews) AS pageviews, count() AS rows FROM session_log WHERE property_id = {p:String}`,
    );
    const [final] = await query<Record<string, string>>(
      `SELECT count() AS sessions, sum(is_bounce) AS bounces, sum(duration) AS duration, sum(pageviews) AS pageviews
        FROM sessions FINAL WHERE property_id = {p:String}`,
    );
    const { rows, ...fromLog } = log ?? {};
    const asNumbers = (r: Record<string, string> = {}) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)]));
    return { fromLog: asNumbers(fromLog), fromSessions: asNumbers(final), rows: Number(rows) };
  }

  async function expectLogToSumToSessions() {
    const t = await totals();
    expect(t.fromLog).toEqual(t.fromSessions);
    return t;
  }

  it("sums, per property, to what sessions FINAL holds after every batch, late events and redeliveries included", async () => {
    // One batch, two messages, one visitor in both: one net change per session.
    const first = [
      { id: id("m1"), events: [hit("a1", "alice", 20, { page_path: "/" }), hit("b1", "bob", 10)] },
      { id: id("m2"), events: [hit("a2", "alice", 19, { page_path: "/pricing" })] },
    ];
    expect((await consumeMessages(first)).explicitAcks.sort()).toEqual([id("m1"), id("m2")]);
    expect(await expectLogToSumToSessions()).toMatchObject({
      fromSessions: { sessions: 2, bounces: 1, duration: 60, pageviews: 3 },
      rows: 2,
    });

    // A custom event for alice (already no bounce) and a new visitor, carol.
    const third = [hit("a3", "alice", 15, { event_type: "signup" }), hit("c1", "carol", 5)];
    await consumeMessage(id("m3"), third);
    expect(await expectLogToSumToSessions()).toMatchObject({
      fromSessions: { sessions: 3, bounces: 2, duration: 300, pageviews: 4 },
      rows: 5,
    });

    // A late hit from before alice's start: it names her acquisition, entry page and hostname.
    const late = hit("a0", "alice", 28, {
      page_path: "/landing",
      page_host: "www.example.com",
      utm_source: "newsletter",
      utm_medium: "email",
      utm_term: "analytics",
      utm_content: "banner",
      source: "Newsletter",
      channel: "Email",
    });
    await consumeMessage(id("m4"), [late]);
    expect(await expectLogToSumToSessions()).toMatchObject({
      fromSessions: { sessions: 3, bounces: 2, duration: 13 * 60, pageviews: 5 },
      rows: 7,
    });

    // Redelivered messages change no session, so they log nothing.
    expect((await consumeMessage(id("m3"), third, 2)).explicitAcks).toEqual([id("m3")]);
    await consumeMessages(first.map((m) => ({ ...m, attempts: 2 })).reverse());
    expect(await expectLogToSumToSessions()).toMatchObject({ rows: 7 });

    // An event older than alice's window is a session of its own; a recent one extends hers.
    await consumeMessage(id("m5"), [hit("a4", "alice", 120), hit("a5", "alice", 1)]);
    expect(await expectLogToSumToSessions()).toMatchObject({
      fromSessions: { sessions: 4, bounces: 3, duration: 27 * 60, pageviews: 7 },
      rows: 10,
    });

    const alice = await query<Record<string, unknown>>(
      `SELECT entry_page, hostname, source, channel, utm_source, utm_medium, utm_term, utm_content, pageviews, version
        FROM sessions FINAL WHERE property_id = {p:String} AND session_id = 's_${id("a1")}'`,
    );
    expect(alice).toEqual([
      {
        entry_page: "/landing",
        hostname: "www.example.com",
        source: "Newsletter",
        channel: "Email",
        utm_source: "newsletter",
        utm_medium: "email",
        utm_term: "analytics",
        utm_content: "banner",
        pageviews: 4,
        version: 5,
      },
    ]);
  }, 30_000);
});
