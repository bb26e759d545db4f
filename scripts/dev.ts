/**
 * `npm run dev`: the whole stack on one machine. Starts the embedded ClickHouse engine (chDB) unless
 * CLICKHOUSE_URL names a real server, and the embedded PostgreSQL warehouse unless WAREHOUSE_URL is
 * set (empty: no warehouse), applies both sets of migrations, then runs `wrangler dev` (Worker,
 * Queues, R2 in workerd). When Redis answers (REDIS_URL, default redis://127.0.0.1:6379), the query
 * cache is Upstash's REST protocol over it (dev/servers/upstash-server.ts); otherwise the Worker uses
 * the Cache API. Ctrl-C stops everything.
 *
 * Environment: PORT (8787), CLICKHOUSE_PORT (8123), CLICKHOUSE_URL, WAREHOUSE_PORT (5439),
 * WAREHOUSE_URL, TALLY_DATA_DIR (.data), REDIS_URL, TALLY_CLICKHOUSE_AUTH (`generated`; `none`
 * leaves the embedded engine without passwords, a manual opt-out: no harness uses it), SMTP_URL
 * (unset: a local mail receiver, dev/servers/smtp-receiver.ts, on 127.0.0.1:2525 with its messages
 * at http://127.0.0.1:8025/messages, or free ports), PUBLIC_URL (unset: http://localhost:PORT).
 *
 * The embedded engine has two users with passwords generated once per data folder (kept in
 * <data>/clickhouse/tally-credentials.json): `default`, which the consumer and migrations write as,
 * and `tally_query`, read-only with forced limits, which the query API reads as.
 * `--demo` (`npm run demo`): once the stack is up, scripts/demo/traffic.ts imports 30 days of history
 * for UA-DEMO-1, creates its goals and keeps sending live visits, so every dashboard module has data.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { createClient } from "@clickhouse/client-web";
import { type RunningClickHouse, startClickHouseServer } from "../dev/servers/clickhouse-server.ts";
import { type RunningSmtpReceiver, startSmtpReceiver } from "../dev/servers/smtp-receiver.ts";
import { type RunningUpstashServer, startUpstashServer } from "../dev/servers/upstash-server.ts";
import { type RunningWarehouse, startWarehouseServer, WAREHOUSE_DEFAULTS } from "../dev/servers/warehouse-server.ts";
import { readClickHouseMigrations, readWarehouseMigrations } from "../migrations/files.ts";
import { migrate } from "../migrations/migrator.ts";
import { migrateWarehouse } from "../migrations/postgres-target.ts";
import type { LiveTraffic } from "./demo/traffic.ts";
import { ensureAdminToken, ensureDemoProperty } from "./dev-setup.ts";

const port = Number(process.env.PORT ?? 8787);
const dataDir = process.env.TALLY_DATA_DIR ?? ".data";

// Ctrl-C works from the first moment: whatever has started by then is stopped, nothing is left running.
let embedded: RunningClickHouse | undefined;
let upstash: RunningUpstashServer | undefined;
let mail: RunningSmtpReceiver | undefined;
let warehouseStart: Promise<RunningWarehouse> | undefined;
let wrangler: ChildProcess | undefined;
let demoTraffic: LiveTraffic | undefined;
let stopping = false;
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

// Another stack (or anything) on the Worker's port would answer our start-up checks in its place.
if (await portAnswers(port)) {
  console.error(`Port ${port} is already in use (another \`npm run dev\`?). Stop it, or set PORT to a free port.`);
  process.exit(1);
}

if (!existsSync(".dev.vars")) copyFileSync(".dev.vars.example", ".dev.vars");
const adminToken = ensureAdminToken();

// The warehouse starts while ClickHouse does (each takes a second or two). stop() waits for a start
// under way and then closes it, so a Ctrl-C at any moment leaves no PostgreSQL running.
const warehouseDir = join(dataDir, "warehouse");
const warehousePort = Number(process.env.WAREHOUSE_PORT ?? WAREHOUSE_DEFAULTS.port);
if (process.env.WAREHOUSE_URL === undefined) {
  warehouseStart = startWarehouseServer({ dataDir: warehouseDir, port: warehousePort });
  warehouseStart.catch(() => undefined); // awaited below; a failure meanwhile is not unhandled
}

let clickhouseUrl = process.env.CLICKHOUSE_URL;
if (!clickhouseUrl) {
  embedded = await startClickHouseServer({
    dataDir: join(dataDir, "clickhouse"),
    port: Number(process.env.CLICKHOUSE_PORT ?? 8123),
    generateCredentials: process.env.TALLY_CLICKHOUSE_AUTH !== "none",
  });
  clickhouseUrl = embedded.url;
}
const credentials = embedded?.credentials;

const client = createClient({
  url: clickhouseUrl,
  username: credentials?.user ?? process.env.CLICKHOUSE_USER ?? "default",
  password: credentials?.password ?? process.env.CLICKHOUSE_PASSWORD ?? "",
});
const report = await unlessStopping(migrate(client, readClickHouseMigrations()));

let warehouse: RunningWarehouse | undefined;
if (warehouseStart)
  try {
    warehouse = await unlessStopping(warehouseStart);
  } catch (error) {
    console.error(
      `The warehouse (embedded PostgreSQL) did not start: ${error instanceof Error ? error.message : String(error)}`,
    );
    await stop(1);
  }
const warehouseUrl = warehouse?.url ?? process.env.WAREHOUSE_URL ?? "";
const warehouseReport = warehouseUrl
  ? await unlessStopping(migrateWarehouse(warehouseUrl, readWarehouseMigrations()))
  : undefined;

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
try {
  upstash = await startUpstashServer({ redisUrl, token: `up_${crypto.randomUUID().replaceAll("-", "")}` });
} catch (error) {
  console.log(`No Redis at ${redisUrl} (${String(error)}): the query cache uses the Workers Cache API.`);
}
const upstashVars = upstash
  ? ["--var", `UPSTASH_REDIS_REST_URL:${upstash.url}`, "--var", `UPSTASH_REDIS_REST_TOKEN:${upstash.token}`]
  : [];

// Email digests go to a local receiver unless SMTP_URL names a real server; PUBLIC_URL makes the
// links in them (unsubscribe, dashboard) point at this stack.
const smtpUrl = process.env.SMTP_URL || (await startMailReceiver());
const publicUrl = process.env.PUBLIC_URL ?? `http://localhost:${port}`;

// wrangler refuses to start when wrangler.toml's [assets] directory is missing: on a fresh clone run
// without `npm run dev` (whose predev hook builds it), build the dashboard first.
if (!existsSync("web/dashboard/dist/index.html")) await buildDashboard();

// Run wrangler's own entry on this Node (22, from devDependencies): wrangler refuses Node 20.
const wranglerBin = join(
  dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
  "bin",
  "wrangler.js",
);
// The embedded engine's passwords reach the Worker as secrets, not on the command line: with
// --env-file, wrangler reads .dev.vars as an env file with this process's environment over it (plain
// .dev.vars would win over --var, and every parallel stack shares the checkout's .dev.vars). A
// variable the Worker does not declare is taken only when named by a --var, hence the placeholders.
// SMTP_URL does not: the Worker saw the placeholder's empty value over the env file's (tried as a
// new user: email digests answered 409 smtp_not_configured), so it is always a --var. The local
// receiver's is dev:dev; a real server's password on this command line is visible to local `ps`.
const secretEnv: Record<string, string> = credentials
  ? {
      CLICKHOUSE_USER: credentials.user,
      CLICKHOUSE_PASSWORD: credentials.password,
      CLICKHOUSE_QUERY_USER: credentials.queryUser,
      CLICKHOUSE_QUERY_PASSWORD: credentials.queryPassword,
    }
  : {};
const secretArgs = credentials
  ? [
      "--env-file",
      ".dev.vars",
      "--var",
      "CLICKHOUSE_QUERY_USER:",
      "--var",
      "CLICKHOUSE_QUERY_PASSWORD:",
      "--var",
      `SMTP_URL:${smtpUrl}`,
    ]
  : ["--var", `SMTP_URL:${smtpUrl}`];

// Ctrl-C came while the engine was starting: start nothing more (stop() is ending the process).
if (stopping) await new Promise<never>(() => undefined);
wrangler = spawn(
  process.execPath,
  [
    wranglerBin,
    "dev",
    "--port",
    String(port),
    "--ip",
    "127.0.0.1",
    "--persist-to",
    join(dataDir, "wrangler"),
    "--var",
    `CLICKHOUSE_URL:${clickhouseUrl}`,
    // Always, even empty: wrangler.toml's default names the embedded warehouse's usual port.
    "--var",
    `WAREHOUSE_URL:${warehouseUrl}`,
    ...upstashVars,
    "--var",
    `PUBLIC_URL:${publicUrl}`,
    ...secretArgs,
    "--show-interactive-dev-session=false",
    // The Cron Triggers on demand: curl "localhost:8787/__scheduled?cron=10+*+*+*+*" runs the
    // archive's hourly jobs (compaction, privacy passes) now instead of at :10, `?cron=40+*+*+*+*`
    // the warehouse's (loads, aggregates) instead of at :40, and no `?cron` both.
    "--test-scheduled",
  ],
  { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, ...secretEnv, WRANGLER_SEND_METRICS: "false" } },
);
wrangler.on("exit", (code) => {
  if (!stopping) console.error(`wrangler dev exited (code ${code}); stopping the stack.`);
  void stop(code ?? 0);
});

const demo = await ensureDemoProperty(`http://127.0.0.1:${port}`, adminToken);
console.log(`
Tally dev stack
  Worker (collect, queues, R2)  http://localhost:${port}     (wrangler dev, workerd)
  Dashboard                     http://localhost:${port}/    (sign in with the admin token or a property's API key)
  ClickHouse                    ${clickhouseUrl}${embedded ? `     (embedded chDB, data in ${join(dataDir, "clickhouse")})` : ""}${credentials ? `\n                                users default and ${credentials.queryUser} (read-only); passwords in ${join(dataDir, "clickhouse", "tally-credentials.json")}` : ""}
  Warehouse                     ${warehouseLine()}
  Query cache                   ${upstash ? `${upstash.url}     (Upstash REST over Redis at ${redisUrl})` : "Workers Cache API (no Redis)"}
  ${mail ? `Mail (local receiver)         ${mail.httpUrl}/messages     (SMTP ${mail.smtpUrl}; Slack-like webhooks: ${mail.httpUrl}/webhook/<name>)` : `Mail                          SMTP_URL from the environment`}
  Migrations                    ${report.applied.length} applied, ${report.skipped.length} already in place${warehouseReport ? `; warehouse ${warehouseReport.applied.length} applied, ${warehouseReport.skipped.length} already in place` : ""}
  Admin token                   ${adminToken}   (ADMIN_TOKEN; in .dev.vars)
  Demo property                 UA-DEMO-1 ${demo}
Try:
  curl -X POST localhost:${port}/collect -A 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36' \\
    -d '{"property_id":"UA-DEMO-1","client_id":"c1","event_type":"pageview","page_url":"https://example.com/"}'
  (a browser User-Agent: curl's own is a bot's, recorded but left out of reports)
Ctrl-C stops everything.
`);

// In the background, so Ctrl-C works while history is still being imported.
if (process.argv.includes("--demo"))
  import("./demo/traffic.ts")
    .then(({ runDemo }) => runDemo({ url: `http://127.0.0.1:${port}`, token: adminToken }))
    .then(
      (live) => {
        demoTraffic = live;
        if (stopping) void live?.stop();
      },
      (error: unknown) => console.error(`demo traffic stopped: ${String(error)}`),
    );

/** Stops the Worker first (so nothing writes any more), then the engines and the cache; never hangs past 15 s. */
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(code || 1), 15_000).unref();
  await demoTraffic?.stop();
  const worker = wrangler;
  if (worker && worker.exitCode === null && worker.signalCode === null) {
    const exited = new Promise((resolve) => worker.once("exit", resolve));
    worker.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  }
  await Promise.all([
    embedded?.close(),
    upstash?.close(),
    mail?.close(),
    warehouseStart?.then(
      (w) => w.close(),
      () => undefined,
    ),
  ]);
  process.exit(code);
}

/** A start-up step's result; if it fails because Ctrl-C is stopping the stack, waits for stop() to exit instead. */
async function unlessStopping<T>(step: Promise<T>): Promise<T> {
  try {
    return await step;
  } catch (error) {
    if (stopping) return new Promise<never>(() => undefined);
    throw error;
  }
}

/** The banner's warehouse line: where it is, and for the embedded one how to reach it with psql. */
function warehouseLine(): string {
  if (!warehouse)
    return warehouseUrl || "none (WAREHOUSE_URL is empty: ranges older than HOT_RETENTION_DAYS answer 501)";
  const { url, port, user, password, database } = warehouse;
  return `${url}     (embedded PostgreSQL 18, data in ${warehouseDir}; psql -h 127.0.0.1 -p ${port} -U ${user} ${database}, password ${password})`;
}

/** The local mail receiver on 2525 (SMTP) and 8025 (HTTP), or on free ports when those are taken; its SMTP_URL. */
async function startMailReceiver(): Promise<string> {
  try {
    mail = await startSmtpReceiver({ smtpPort: 2525, httpPort: 8025, folder: join(dataDir, "mail") });
  } catch {
    mail = await startSmtpReceiver({ folder: join(dataDir, "mail") });
  }
  return mail.smtpUrl;
}

/** Whether something already accepts connections on this port of the loopback address. */
function portAnswers(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port: p });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** `npm run build:dashboard` on this Node: Vite writes web/dashboard/dist. */
async function buildDashboard(): Promise<void> {
  console.log("Building the dashboard (web/dashboard/dist is missing)…");
  const viteBin = join(dirname(createRequire(import.meta.url).resolve("vite/package.json")), "bin", "vite.js");
  const build = spawn(
    process.execPath,
    [viteBin, "build", "--config", "web/dashboard/vite.config.ts", "--logLevel", "warn"],
    {
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
  const code = await new Promise<number | null>((resolve) => build.once("exit", resolve));
  if (code !== 0) throw new Error(`the dashboard build failed (exit ${code}); see above`);
}
