/** What the protocol adapters share: turning free-form properties into our bounded dimensions and metrics. */
import { MAX_CUSTOM_ENTRIES } from "../event.ts";

const KEY = /^[A-Za-z0-9_.:$-]{1,64}$/;

/** Splits scalar properties into string dimensions and numeric metrics; other values and bad keys are dropped. */
export function splitProps(props: Record<string, unknown> | undefined, max = MAX_CUSTOM_ENTRIES) {
  const dimensions: Record<string, string> = {};
  const metrics: Record<string, number> = {};
  let kept = 0;
  for (const [key, value] of Object.entries(props ?? {})) {
    if (kept >= max || !KEY.test(key)) continue;
    if (typeof value === "number" && Number.isFinite(value)) metrics[key] = value;
    else if (typeof value === "string") dimensions[key] = value.slice(0, 512);
    else if (typeof value === "boolean") dimensions[key] = String(value);
    else continue;
    kept++;
  }
  return { dimensions, metrics };
}

/** Only http(s) referrers are sources; app schemes and junk are dropped rather than failing the hit. */
export function httpOrUndefined(value: unknown, max = 2048): string | undefined {
  if (typeof value !== "string" || value === "" || !URL.canParse(value)) return undefined;
  const { protocol } = new URL(value);
  return protocol === "http:" || protocol === "https:" ? value.slice(0, max) : undefined;
}

/** Drops empty maps so events stay small. */
export function nonEmpty<T extends Record<string, unknown>>(record: T): T | undefined {
  return Object.keys(record).length > 0 ? record : undefined;
}
