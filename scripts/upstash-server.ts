/** The Upstash REST adapter alone (dev/servers/upstash-server.ts), for poking the @upstash/redis SDK at the local Redis. */
import { startUpstashServer } from "../dev/servers/upstash-server.ts";

const server = await startUpstashServer({
  redisUrl: process.env.REDIS_URL,
  token: process.env.UPSTASH_REDIS_REST_TOKEN,
  port: Number(process.env.UPSTASH_PORT ?? 8079),
});
console.log(`Upstash REST over Redis: UPSTASH_REDIS_REST_URL=${server.url} UPSTASH_REDIS_REST_TOKEN=${server.token}`);
process.on("SIGINT", () => void server.close().then(() => process.exit(0)));
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
