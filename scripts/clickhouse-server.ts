/** `npm run clickhouse`: the embedded engine alone, for tools that want ClickHouse without the Worker. */
import { startClickHouseServer } from "../dev/servers/clickhouse-server.ts";

const port = Number(process.env.CLICKHOUSE_PORT ?? 8123);
const dataDir = process.env.CLICKHOUSE_DATA_DIR ?? ".data/clickhouse";
const server = await startClickHouseServer({ dataDir, port, generateCredentials: true });
console.log(`ClickHouse (chDB) listening on ${server.url}, data in ${dataDir}
  users: default (writes) and ${server.credentials?.queryUser} (read-only, limited); passwords in ${dataDir}/tally-credentials.json`);
process.on("SIGINT", () => void server.close().then(() => process.exit(0)));
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
