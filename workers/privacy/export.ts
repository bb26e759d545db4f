/**
 * A visitor's export (GDPR access) as a stream of NDJSON lines: ClickHouse's pages first, then the
 * warehouse's events ClickHouse did not have (core/privacy/export.ts says why these two stores).
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
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
import { clickHouseClient } from "../../platform/clickhouse.ts";
import { loadConfig } from "../../platform/config.ts";
import { openWarehouse, type Warehouse } from "../../platform/warehouse.ts";

async function select<T>(client: ClickHouseClient, s: ch.Statement): Promise<T[]> {
  const result = await client.query({ query: s.sql, query_params: s.params, format: "JSONEachRow" });
  return result.json<T>();
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
  const client = clickHouseClient(config);
  const encoder = new TextEncoder();
  let db: Warehouse | undefined;
  const lines = async function* (): AsyncGenerator<string> {
    db = config.WAREHOUSE_URL ? openWarehouse(config.WAREHOUSE_URL, { max: 1 }) : undefined;
    const ids = new Set([visitor]);
    for (const r of await select<{ client_id: string }>(client, ch.findClientIds(propertyId, visitor)))
      ids.add(r.client_id);
    if (db) for (const r of await wh.findClientIds(db, propertyId, visitor).execute()) ids.add(r.client_id);
    const clientIds = [...ids];
    const seen = new Set<string>();
    for await (const page of pages((c) => select(client, clickHousePage(propertyId, visitor, clientIds, c))))
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
  const close = async () => {
    await db?.destroy();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await source.next();
        if (next.done) {
          await close();
          controller.close();
        } else controller.enqueue(encoder.encode(next.value));
      } catch (error) {
        await close();
        controller.error(error);
      }
    },
    async cancel() {
      await source.return(undefined);
      await close();
    },
  });
}
