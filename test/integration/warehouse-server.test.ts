/**
 * dev/servers/warehouse-server.ts: the embedded PostgreSQL that `npm run dev` and the tests use as
 * the warehouse. It must come back after whatever ended the last run (Ctrl-C, kill -9 of the
 * launcher or of PostgreSQL itself) and say clearly why it cannot start.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../dev/free-port.ts";
import { type RunningWarehouse, startWarehouseServer } from "../../dev/servers/warehouse-server.ts";

// Under root PostgreSQL runs as the postgres user, which must be able to enter this folder.
const root = mkdtempSync(join(tmpdir(), "tally-warehouse-server-"));
chmodSync(root, 0o755);
const running: RunningWarehouse[] = [];

async function start(dataDir: string, port = 0): Promise<RunningWarehouse> {
  const server = await startWarehouseServer({ dataDir, port, ephemeral: true });
  running.push(server);
  return server;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

function postmasterPid(dataDir: string): number {
  return Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
}

async function gone(pid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`pid ${pid} still running`);
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("the embedded warehouse server", () => {
  it("creates the cluster and its database, and answers as the URL says", async () => {
    const server = await start(join(root, "fresh"));
    expect(server.url).toBe(`postgres://tally:tally@127.0.0.1:${server.port}/tally`);
    const [row] = await query<{ user: string; db: string; version: string }>(
      server.url,
      "SELECT current_user AS user, current_database() AS db, version() AS version",
    );
    expect(row).toMatchObject({ user: "tally", db: "tally" });
    expect(row?.version).toMatch(/^PostgreSQL 18\./);
    await expect(query(server.url.replace(":tally@", ":wrong@"), "SELECT 1")).rejects.toThrow(/password/);
  });

  it("keeps its data across a restart, and stops listening on close", async () => {
    const dataDir = join(root, "restart");
    const first = await start(dataDir);
    await query(first.url, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)");
    await first.close();
    await expect(query(first.url, "SELECT 1")).rejects.toThrow(/ECONNREFUSED/);
    const second = await start(dataDir, first.port);
    expect(await query(second.url, "SELECT x FROM kept")).toEqual([{ x: 42 }]);
  });

  it("starts after PostgreSQL itself was killed (a stale postmaster.pid)", async () => {
    const dataDir = join(root, "killed");
    const first = await start(dataDir);
    const pid = postmasterPid(dataDir);
    process.kill(pid, "SIGKILL");
    await gone(pid);
    const second = await start(dataDir);
    expect(await query(second.url, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
    await first.close(); // its server is gone already: nothing to do, nothing to hang on
  });

  it("stops the server a killed launcher left running, then starts (kill -9 of npm run dev)", async () => {
    const dataDir = join(root, "orphan");
    const script = `
      const { startWarehouseServer } = await import(${JSON.stringify(new URL("../../dev/servers/warehouse-server.ts", import.meta.url).href)});
      await startWarehouseServer({ dataDir: ${JSON.stringify(dataDir)}, port: 0, ephemeral: true });
      process.stdout.write("ready\\n");
      setInterval(() => {}, 1000);`;
    const launcher = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      launcher.once("exit", (code) => reject(new Error(`launcher exited with ${code}`)));
      launcher.stdout?.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
    });
    const orphan = postmasterPid(dataDir);
    launcher.kill("SIGKILL");
    await new Promise((r) => launcher.once("exit", r));
    process.kill(orphan, 0); // still running, its launcher gone
    const server = await start(dataDir);
    await gone(orphan);
    expect(await query(server.url, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });

  it("refuses a data folder a live server is using, without touching that server", async () => {
    const dataDir = join(root, "shared");
    const first = await start(dataDir);
    await expect(start(dataDir)).rejects.toThrow(/already running/);
    expect(await query(first.url, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });

  it("says so when its port is taken", async () => {
    const port = await freePort();
    const taken = createServer().listen(port, "127.0.0.1");
    await new Promise((r) => taken.once("listening", r));
    try {
      await expect(start(join(root, "port"), port)).rejects.toThrow(`port ${port} is already in use`);
    } finally {
      taken.close();
    }
  });
});
