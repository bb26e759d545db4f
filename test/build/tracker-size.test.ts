/**
 * The tracker's budget (issue #6): at most 1.5 KB gzipped, against Plausible's ~1.9 KB and Umami's
 * 2.4 KB. Measures the bundle the Worker serves (tracker.gen.ts; tracker-build.test.ts proves it is
 * the current build) at gzip's default level, as a server compresses it.
 */
import { gzipSync } from "node:zlib";
import { expect, it } from "vitest";
import { TRACKER_CODE } from "../../web/tracker/tracker.gen.ts";

const TRACKER_BUDGET_BYTES = 1536;

it("keeps the tracker within 1,536 bytes gzipped", () => {
  const gzipped = gzipSync(TRACKER_CODE).length;
  console.log(`tracker: ${TRACKER_CODE.length} bytes, ${gzipped} gzipped (budget ${TRACKER_BUDGET_BYTES})`);
  expect(gzipped).toBeLessThanOrEqual(TRACKER_BUDGET_BYTES);
});
