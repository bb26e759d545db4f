/**
 * A visitor's export reads ClickHouse as the query API does (the read-only user, under its limits),
 * and an export a store fails midway says so in its last line instead of ending short: the 200
 * was sent before the stores were read.
 */
import { env } from "cloudflare:workers";
import { beforeAll, expect, it } from "vitest";
import { MINUTE_MS } from "../../core/time.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { exportVisitor } from "../../workers/privacy/export.ts";
import { consumeMessage, createProperty, YESTERDAY_10H } from "./helpers.ts";

const run = crypto.randomUUID().slice(0, 8);
const VISITOR = `${run}-visitor`;
let property = "";

const lines = async (body: ReadableStream<Uint8Array>) =>
  (await new Response(body).text())
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  ({ property_id: property } = await createProperty({ property_id: `EX-${run}` }));
  await consumeMessage(
    `${run}-m`,
    [0, 1, 2].map((i) =>
      makeEvent({
        property_id: property,
        event_id: `${run}-e${i}`,
        client_id: VISITOR,
        event_timestamp: YESTERDAY_10H + i * MINUTE_MS,
      }),
    ),
  );
});

it("exports every event of the visitor under the query limits", async () => {
  const all = await lines(exportVisitor(env, property, VISITOR));
  expect(all.map((l) => l.event_id)).toEqual([0, 1, 2].map((i) => `${run}-e${i}`));
});

it("ends with an export_incomplete error line when ClickHouse refuses a page (here: past QUERY_MAX_RESULT_ROWS)", async () => {
  const limited = { ...env, QUERY_MAX_RESULT_ROWS: "2" };
  const got = await lines(exportVisitor(limited, property, VISITOR));
  expect(got.at(-1)).toMatchObject({
    error: {
      code: "export_incomplete",
      status: 503,
      message: expect.stringMatching(/^export incomplete after 0 events: query: would return more than 2 rows/),
    },
  });
  expect(got.filter((l) => "event_id" in l)).toEqual([]);
});

it("ends with an export_incomplete error line when the warehouse cannot be reached", async () => {
  // Nothing listens on port 1.
  const broken = { ...env, WAREHOUSE_URL: "postgres://tally:tally@127.0.0.1:1/tally" };
  const got = await lines(exportVisitor(broken, property, VISITOR));
  expect(got.at(-1)).toMatchObject({ error: { code: "export_incomplete", status: 503 } });
});
