/**
 * Renders one migration statement, written for a single server, for a topology (clickhouse-topology.ts).
 * Migration files are history and never change; what changes is how each statement runs:
 * - single: as written.
 * - cloud: MergeTree engines become their SharedMergeTree counterparts; the deduplication window
 *   is the replicated one (SharedMergeTree deduplicates like a replicated table).
 * - cluster: a table becomes `<name>_local` (Replicated*, ON CLUSTER) plus a Distributed `<name>`
 *   that reads and inserts as the table did; views read and write the local tables; column changes
 *   go to both (a column added locally first, dropped from the Distributed table first, never
 *   renamed), TTL and settings to the local table only; drops remove both, synchronously (a table
 *   dropped and re-created by one migration reuses its replication path).
 * A focused transformer of our own DDL, not a SQL parser: whatever it does not recognise it
 * refuses, naming the statement, rather than emit DDL that is wrong on a cluster.
 */
import { localTable, replicaPath, shardingKeyOf, type Topology } from "./clickhouse-topology.ts";

/** A statement the renderer cannot translate for a topology; the message names it. */
export class UnsupportedStatementError extends Error {
  constructor(topology: Topology["kind"], reason: string, statement: string) {
    const head = statement.replace(/\s+/g, " ").slice(0, 160);
    super(`cannot render for target ${topology}: ${reason}: ${head}`);
    this.name = "UnsupportedStatementError";
  }
}

const MERGE_TREES = new Set([
  "MergeTree",
  "ReplacingMergeTree",
  "AggregatingMergeTree",
  "SummingMergeTree",
  "CollapsingMergeTree",
  "VersionedCollapsingMergeTree",
]);

/** The statements to run, in order, for one statement of a migration file. */
export function renderStatement(sql: string, topology: Topology): string[] {
  if (topology.kind === "single") return [sql];
  const statement = sql.trim();
  const refuse = (reason: string): never => {
    throw new UnsupportedStatementError(topology.kind, reason, statement);
  };
  if (/--|\/\*/.test(masked(statement))) refuse("comments inside a statement are not supported");
  for (const form of FORMS) {
    const match = form.pattern.exec(statement);
    if (match) return form.render(match, { statement, topology, refuse });
  }
  return refuse(
    "not a statement form the renderer knows (CREATE TABLE, CREATE MATERIALIZED VIEW … TO, ALTER TABLE, INSERT INTO … SELECT, DROP)",
  );
}

interface Context {
  statement: string;
  topology: Exclude<Topology, { kind: "single" }>;
  refuse: (reason: string) => never;
}

interface Form {
  pattern: RegExp;
  render(match: RegExpExecArray, context: Context): string[];
}

const NAME = "([A-Za-z_][A-Za-z0-9_]*)";

const FORMS: Form[] = [
  { pattern: new RegExp(`^CREATE TABLE (IF NOT EXISTS )?${NAME}\\s*\\(`, "i"), render: createTable },
  {
    pattern: new RegExp(
      `^CREATE MATERIALIZED VIEW (IF NOT EXISTS )?${NAME} TO ${NAME} AS\\s+(SELECT\\b[\\s\\S]*)$`,
      "i",
    ),
    render: createView,
  },
  { pattern: new RegExp(`^ALTER TABLE ${NAME}\\s+([\\s\\S]+)$`, "i"), render: alterTable },
  { pattern: new RegExp(`^INSERT INTO ${NAME}\\s+(SELECT\\b[\\s\\S]*)$`, "i"), render: insertSelect },
  { pattern: new RegExp(`^DROP (VIEW|TABLE) (IF EXISTS )?${NAME}$`, "i"), render: drop },
];

function createTable(match: RegExpExecArray, { statement, topology, refuse }: Context): string[] {
  const ifNotExists = match[1] ? "IF NOT EXISTS " : "";
  const table = match[2] ?? "";
  const open = match[0].length - 1;
  const close = closingParen(statement, open) ?? refuse("unbalanced column list");
  const columns = statement.slice(open, close + 1);
  const rest = statement.slice(close + 1).trim();
  // `\s*` after the name too: `ReplacingMergeTree (version)` is the same engine with arguments.
  const engineMatch = /^ENGINE\s*=\s*([A-Za-z]+)\s*/.exec(rest) ?? refuse("no ENGINE = after the column list");
  const engine = engineMatch[1] ?? "";
  if (!MERGE_TREES.has(engine)) refuse(`engine ${engine} is not one of ${[...MERGE_TREES].join(", ")}`);
  let after = engineMatch[0].length;
  let args = "";
  if (rest[after] === "(") {
    const end = closingParen(rest, after) ?? refuse("unbalanced engine arguments");
    args = rest.slice(after + 1, end).trim();
    after = end + 1;
  }
  const tail = renameSettings(rest.slice(after).trim());
  if (topology.kind === "cloud")
    return [
      lines(`CREATE TABLE ${ifNotExists}${table}`, columns, `ENGINE = Shared${engine}${args ? `(${args})` : ""}`, tail),
    ];
  const key = shardingKey(table, refuse);
  const local = localTable(table);
  const on = onCluster(topology);
  const replicated = `Replicated${engine}('${replicaPath(local)}', '{replica}'${args ? `, ${args}` : ""})`;
  return [
    lines(`CREATE TABLE ${ifNotExists}${local}${on}`, columns, `ENGINE = ${replicated}`, tail),
    `CREATE TABLE ${ifNotExists}${table}${on} AS ${local}\nENGINE = ${distributed(topology, local, key)}`,
  ];
}

function createView(match: RegExpExecArray, { topology, refuse }: Context): string[] {
  const [, ifNotExists = "", view = "", target = "", select = ""] = match;
  if (topology.kind === "cloud") return [match[0]];
  const sources = fromTables(select, refuse);
  if (sources.length !== 1) refuse("a materialized view must read exactly one table (it runs on that table's inserts)");
  if (/\bJOIN\b/i.test(masked(select).replace(/\bARRAY\s+JOIN\b/gi, "")))
    refuse("a materialized view with a JOIN would join one shard's rows only");
  shardingKey(target, refuse);
  for (const source of sources) shardingKey(source, refuse);
  const local = replaceFrom(select, (table) => localTable(table));
  return [
    `CREATE MATERIALIZED VIEW ${ifNotExists.toUpperCase()}${view}${onCluster(topology)} TO ${localTable(target)} AS\n${local}`,
  ];
}

/** ALTER commands by where they apply on a cluster; anything else is refused. */
const LOCAL_ONLY = [
  /^(MODIFY|REMOVE|MATERIALIZE) TTL\b/i,
  /^(MODIFY|RESET) SETTING\b/i,
  /^MODIFY COLUMN (IF EXISTS )?[A-Za-z_][A-Za-z0-9_]*\s+(TTL|REMOVE TTL)\b/i,
  /^(ADD|DROP|MATERIALIZE|CLEAR) INDEX\b/i,
  /^(MATERIALIZE|CLEAR) COLUMN\b/i,
];
const BOTH = [/^(ADD|DROP|RENAME|COMMENT|MODIFY) COLUMN\b/i];
/**
 * Column changes that must reach the Distributed table before the local ones: once a local table
 * has lost a column, reads through a Distributed table still listing it fail. A rename has no
 * safe order (reads of the column fail between the two, either way), so the cluster refuses it.
 */
const DISTRIBUTED_FIRST = /^DROP COLUMN\b/i;
const NO_SAFE_ORDER = /^RENAME COLUMN\b/i;

function alterTable(match: RegExpExecArray, { topology, refuse }: Context): string[] {
  const table = match[1] ?? "";
  const commands = splitTopLevel(match[2] ?? "").map((c) => c.trim());
  const local: string[] = [];
  const distributedBefore: string[] = [];
  const distributedAfter: string[] = [];
  for (const command of commands) {
    if (LOCAL_ONLY.some((p) => p.test(command))) local.push(renameSettings(command));
    else if (BOTH.some((p) => p.test(command))) {
      // A Distributed table keeps no TTL: a column change that also sets one must be split by hand.
      if (/\bTTL\b/i.test(masked(command))) refuse(`"${command}" mixes a column change with a TTL`);
      if (topology.kind === "cluster" && NO_SAFE_ORDER.test(command))
        refuse(
          `"${command}": reads through the Distributed table fail while it and the local tables disagree; add the new column, backfill it, drop the old one`,
        );
      local.push(command);
      (DISTRIBUTED_FIRST.test(command) ? distributedBefore : distributedAfter).push(command);
    } else refuse(`ALTER command "${command.split(/\s+/).slice(0, 3).join(" ")}" is not one the renderer knows`);
  }
  if (topology.kind === "cloud") return [`ALTER TABLE ${table}\n    ${local.join(",\n    ")}`];
  shardingKey(table, refuse);
  const on = onCluster(topology);
  const distributedAlter = (list: string[]) =>
    list.length > 0 ? [`ALTER TABLE ${table}${on}\n    ${list.join(",\n    ")}`] : [];
  return [
    ...distributedAlter(distributedBefore),
    `ALTER TABLE ${localTable(table)}${on}\n    ${local.join(",\n    ")}`,
    ...distributedAlter(distributedAfter),
  ];
}

/**
 * Backfills read and write through the Distributed tables: they aggregate over every shard and
 * the inserted rows split by the sharding key, so session_log rows land with their sessions.
 * The insert waits for the shards (not the background queue), so what follows sees the rows.
 */
function insertSelect(match: RegExpExecArray, { topology, refuse }: Context): string[] {
  const [, table = "", select = ""] = match;
  if (topology.kind === "cloud") return [match[0]];
  shardingKey(table, refuse);
  for (const source of fromTables(select, refuse)) shardingKey(source, refuse);
  return [`INSERT INTO ${table} SETTINGS distributed_foreground_insert = 1\n${select}`];
}

function drop(match: RegExpExecArray, { topology, refuse }: Context): string[] {
  const [, kind = "", ifExists = "", name = ""] = match;
  if (topology.kind === "cloud") return [match[0]];
  const on = onCluster(topology);
  const exists = ifExists.toUpperCase();
  if (kind.toUpperCase() === "VIEW") return [`DROP VIEW ${exists}${name}${on} SYNC`];
  shardingKey(name, refuse);
  return [`DROP TABLE ${exists}${name}${on} SYNC`, `DROP TABLE ${exists}${localTable(name)}${on} SYNC`];
}

function lines(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("\n");
}

function onCluster(topology: { cluster: string }): string {
  return ` ON CLUSTER '${topology.cluster}'`;
}

function distributed(topology: { cluster: string; database: string }, local: string, key: string): string {
  return `Distributed('${topology.cluster}', '${topology.database}', '${local}', ${key})`;
}

function shardingKey(table: string, refuse: Context["refuse"]): string {
  return (
    shardingKeyOf(table) ??
    refuse(
      `table ${table} has no sharding key: add it to CLUSTER_TABLES (core/clickhouse/cluster.ts) and SHARDING_KEYS (migrations/clickhouse-topology.ts)`,
    )
  );
}

/** Replicated and shared tables deduplicate by their own window; the non-replicated one does not apply. */
function renameSettings(text: string): string {
  return text.replace(/\bnon_replicated_deduplication_window\b/g, "replicated_deduplication_window");
}

const FROM = /\bFROM\s+([A-Za-z_][A-Za-z0-9_]*|\()/gi;

/** The tables a SELECT reads by name (subqueries are read through); table functions and dotted names refused. */
function fromTables(select: string, refuse: Context["refuse"]): string[] {
  const tables: string[] = [];
  const text = masked(select);
  for (const m of text.matchAll(FROM)) {
    const name = m[1] ?? "";
    if (name === "(") continue;
    const next = text.slice((m.index ?? 0) + m[0].length).trimStart();
    if (next.startsWith(".") || next.startsWith("(")) refuse(`FROM ${name}${next[0]}… is not a plain table name`);
    tables.push(name);
  }
  return tables;
}

function replaceFrom(select: string, rename: (table: string) => string): string {
  const text = masked(select);
  let out = "";
  let last = 0;
  for (const m of text.matchAll(FROM)) {
    const name = m[1] ?? "";
    if (name === "(") continue;
    const start = (m.index ?? 0) + m[0].length - name.length;
    out += `${select.slice(last, start)}${rename(name)}`;
    last = start + name.length;
  }
  return out + select.slice(last);
}

/** The text with every quoted literal's contents blanked, so scans see only SQL (same length). */
function masked(text: string): string {
  return text.replace(/'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`|"(?:[^"\\]|\\.)*"/g, (q) => `'${" ".repeat(q.length - 2)}'`);
}

/** The index of the `)` closing the `(` at `open`, outside quotes; undefined when unbalanced. */
function closingParen(text: string, open: number): number | undefined {
  const plain = masked(text);
  let depth = 0;
  for (let i = open; i < plain.length; i++) {
    if (plain[i] === "(") depth++;
    else if (plain[i] === ")" && --depth === 0) return i;
  }
  return undefined;
}

/** Splits at commas outside parentheses and quotes. */
function splitTopLevel(text: string): string[] {
  const plain = masked(text);
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < plain.length; i++) {
    const c = plain[i];
    if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}
