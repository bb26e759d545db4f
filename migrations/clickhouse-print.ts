/** What `npm run migrate -- --print` writes: every statement a target runs, for review or a DBA. */
import { accessStatements } from "./clickhouse-access.ts";
import { renderStatement } from "./clickhouse-render.ts";
import type { Topology } from "./clickhouse-topology.ts";
import { type Migration, parseStatements } from "./migrator.ts";

/** Each file's rendered statements under a `-- NNNN_name.sql` header, each ending in `;`. */
export function printMigrations(migrations: readonly Migration[], topology: Topology): string {
  return migrations
    .map((m) => {
      const statements = parseStatements(m.sql)
        .filter((s) => !s.target || s.target === "clickhouse")
        .flatMap((s) => renderStatement(s.sql, topology));
      return [`-- ${m.name}`, ...statements.map((s) => `${s};`)].join("\n\n");
    })
    .join("\n\n");
}

/** The users' SQL (clickhouse-access.ts) under a header that says how to fill in the placeholders. */
export function printAccess(topology: Topology, database: string): string {
  const header = [
    `-- Tally's ClickHouse users on ${topology.kind === "cluster" ? `cluster '${topology.cluster}'` : `a ${topology.kind} target`}, database ${database}.`,
    '-- Replace each placeholder by the SHA-256 of that user\'s password: printf %s "$PASSWORD" | sha256sum',
  ].join("\n");
  return [header, ...accessStatements(topology, database).map((s) => `${s};`)].join("\n\n");
}
