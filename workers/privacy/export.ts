/**
 * A visitor's export (GDPR access) as a stream of NDJSON lines: ClickHouse's pages first, then the
 * warehouse's events ClickHouse did not have (core/privacy/export.ts says why these two stores).
 * ClickHouse is read as the query API reads it: the read-only user, under its limits. The 200 is
 * sent before the stores are read, so a store failing midway ends the body with one
 * `{"error":{…}}` line: a reader can tell an incomplete export from a complete one.
 */
import type { ClickHouseClient, ClickHouseSettings } from "@clickhouse/client-web";
import type { Config } from "../../core/config.ts";
import { AppError } from "../../core/errors.ts";
import * as ch from "../../core/privacy/erasure-clickhouse.ts";
import * as wh from "../../core/privacy/erasure-warehouse.ts";
import {
  clickHousePage,
  EXPORT_PAGE_ROWS,
  type ExportCursor,
  exportedEvent,
  storedTime,
  warehousePage,
} from "../../core/privacy/export.ts";
import { queryClickHouseClient, queryFailure, querySettings } from "../../platform/clickhouse.ts";
import { loadConfig } from "../../platform/config.ts";
import { errorFields, log } from "../../platform/log.ts";
import { openWarehouse, type Warehouse } from "../../platform/warehouse.ts";

async function select<T>(client: ClickHouseClient, settings: ClickHouseSettings, s: ch.Statement): Promise<T[]> {
  const result = await client.query({
    query: s.sql,
    query_params: s.params,
    format: "JSONEachRow",
    clickhouse_settings: settings,
  });
  return result.json<T>();
}

/** The last line of an export a store failed: what happened, and that the lines before are not all. */
export function incompleteLine(error: unknown, config: Config, sent: number): string {
  const known = queryFailure(error, config);
  const why = known instanceof AppError ? known.message : "a store failed while it was read";
  const message = `export incomplete after ${sent} events: ${why}; ask for the export again`;
  return `${JSON.stringify({ error: { code: "export_incomplete", message, status: 503 } })}\n`;
}

const cursorOf = (row: Record<string, unknown> | undefined): ExportCursor | null =>
  row ? { at: storedTime(row.event_timestamp), event_id: String(row.event_id) } : null;

/** Every page of one store, in order, until a short page. */
async function* pages(
  next: (cursor: ExportCursor | null) => Promise<Record<string, unknown>[]>,
): AsyncGenerator<Record<string, unknown>[]> {
  let cursor: ExportCursor | null = null;
  for (;;) {
    const page = await next(cursor);
    if (page.length > 0) yield page;
    if (page.length < EXPORT_PAGE_ROWS) return;
    cursor = cursorOf(page.at(-1));
  }
}

/** The visitor's events of a property, as an NDJSON body that is read from the stores as it is sent. */
export function exportVisitor(env: Env, propertyId: string, visitor: string): ReadableStream<Uint8Array> {
  const config = loadConfig(env);
  const client = queryClickHouseClient(config);
  const settings = querySettings(config);
  const encoder = new TextEncoder();
  let db: Warehouse | undefined;
  const lines = async function* (): AsyncGenerator<string> {
    db = config.WAREHOUSE_URL ? openWarehouse(config.WAREHOUSE_URL, { max: 1 }) : undefined;
    const ids = new Set([visitor]);
    for (const r of await select<{ client_id: string }>(client, settings, ch.findClientIds(propertyId, visitor)))
      ids.add(r.client_id);
    if (db) for (const r of await wh.findClientIds(db, propertyId, visitor).execute()) ids.add(r.client_id);
    const clientIds = [...ids];
    const seen = new Set<string>();
    for await (const page of pages((c) => select(client, settings, clickHousePage(propertyId, visitor, clientIds, c))))
      for (const row of page) {
        seen.add(String(row.event_id));
        yield `${JSON.stringify(exportedEvent(row))}\n`;
      }
    const warehouse = db;
    if (!warehouse) return;
    for await (const page of pages(
      async (c) =>
        (await warehousePage(warehouse, propertyId, visitor, clientIds, c).execute()) as Record<string, unknown>[],
    ))
      for (const row of page) if (!seen.has(String(row.event_id))) yield `${JSON.stringify(exportedEvent(row))}\n`;
  };
  const source = lines();
  let sent = 0;
  const close = async () => {
    await db?.destroy().catch(() => undefined);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await source.next();
        if (next.done) {
          await close();
          controller.close();
        } else {
          sent += 1;
          controller.enqueue(encoder.encode(next.value));
        }
      } catch (error) {
        log.error("export failed", errorFields(error));
        await close();
        controller.enqueue(encoder.encode(incompleteLine(error, config, sent)));
        controller.close();
      }
    },
    async cancel() {
      await source.return(undefined);
      await close();
    },
  });
}
