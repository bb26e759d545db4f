/**
 * The anomaly detector's stored state and input (issue #18): one bounded JSON object per property
 * (a Durable Object key, well under 32 KB: two 168-hour profiles, at most 20 sources, a few alerts).
 */
import { z } from "zod";
import { AlertSchema } from "./alerts.ts";
import { BaselineSchema, initialBaseline } from "./anomaly-baseline.ts";

/** What the PropertyDO counted in one minute. */
export interface MinuteSample {
  minute: number;
  pageviews: number;
  visitors: number;
  /** Accepted events that are not bots. */
  events: number;
  bot_events: number;
  refused: number;
  /** Sessions started this minute, by source. */
  sources: Record<string, number>;
}

export const DETECTOR_VERSION = 2;

/** Sources tracked (the busiest); a source name is cut to MAX_SOURCE_NAME characters. */
export const MAX_SOURCES = 20;
export const MAX_SOURCE_NAME = 64;

/** EWMAs of a share's part (bots, refusals) and of the events it is a share of. */
export const ShareSchema = z.object({ part: z.number(), total: z.number() });
export type Share = z.infer<typeof ShareSchema>;
const SourceSchema = z.object({
  /** EWMA sessions a minute. */
  rate: z.number(),
  /** Its share of all sessions, as of its last minute present. */
  share: z.number(),
  /** Minutes absent in a row. */
  gone: z.number(),
  /** Sessions the other sources brought while it was absent. */
  others: z.number(),
  /** Sessions since it came back while its alert is open. */
  back: z.number(),
});

export const DetectorStateSchema = z.object({
  /** Bumped when the shape changes: a state of another version is started afresh. */
  version: z.literal(DETECTOR_VERSION),
  last_minute: z.number().nullable(),
  /** Minutes observed so far. */
  seen: z.number(),
  pageviews: BaselineSchema,
  visitors: BaselineSchema,
  bot: ShareSchema,
  refused: ShareSchema,
  /** EWMA of all sessions started a minute. */
  sessions: z.number(),
  sources: z.record(z.string(), SourceSchema),
  /** Consecutive minutes toward opening (no alert open) or resolving (alert open), by alert key. */
  streaks: z.record(z.string(), z.number()),
  /** Open alerts by key: the kind, or `source_vanished:<source>`. */
  open: z.record(z.string(), AlertSchema),
});
export type DetectorState = z.infer<typeof DetectorStateSchema>;

/** A detector that has seen nothing. */
export function initialDetector(): DetectorState {
  return {
    version: DETECTOR_VERSION,
    last_minute: null,
    seen: 0,
    pageviews: initialBaseline(),
    visitors: initialBaseline(),
    bot: { part: 0, total: 0 },
    refused: { part: 0, total: 0 },
    sessions: 0,
    sources: {},
    streaks: {},
    open: {},
  };
}

/** A minute with nothing in it (the caller fills quiet minutes with these). */
export function emptySample(minute: number): MinuteSample {
  return { minute, pageviews: 0, visitors: 0, events: 0, bot_events: 0, refused: 0, sources: {} };
}
