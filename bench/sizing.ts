/**
 * `npm run bench:sizing` (issue #19): prints the sizing of docs/production.md for 1K, 100K and 500K
 * events/s sustained — settings, sizes, the Cloudflare lines per billion events, monthly costs and
 * the limits each size runs into — from bench/sizing-model.ts (pure; no stack is started).
 */
import { SIZES, sizingLimits, sizingLines, sizingTable } from "./sizing-table.ts";

console.log(
  `Sizing at ${SIZES.map((s) => s.toLocaleString("en-US")).join(" / ")} events/s sustained (docs/production.md):\n`,
);
console.log(sizingTable());
console.log("\nCloudflare lines, dollars per billion events at each rate:\n");
console.log(sizingLines());
console.log("\nPast a limit:\n");
console.log(sizingLimits());
