/**
 * What every part of a query statement shares: its parameters (values only ever as `{pN:Type}`
 * placeholders) and its scope (the resolved query and the placeholders of its property and range).
 */
import type { ResolvedQuery } from "./normalise.ts";

/** Placeholders, one per distinct (type, value): legs repeat the range and the blocks, and every parameter costs parsing. */
export class Params {
  readonly values: Record<string, string | number | string[]> = {};
  private readonly seen = new Map<string, string>();
  add(type: string, value: string | number | string[]): string {
    const key = `${type}\u0000${JSON.stringify(value)}`;
    const known = this.seen.get(key);
    if (known) return known;
    const placeholder = `{p${this.seen.size}:${type}}`;
    this.values[`p${this.seen.size}`] = value;
    this.seen.set(key, placeholder);
    return placeholder;
  }
}

export interface Scope {
  q: ResolvedQuery;
  p: Params;
  /** Placeholders for the property and the range, shared by every subquery. */
  property: string;
  from: string;
  to: string;
  tz: string;
  /** Where the hot retention starts (the plan's `historyFrom`): `visit:visitor_type` looks back to it. */
  historyFrom: number;
}

export const ms = (placeholder: string) => `fromUnixTimestamp64Milli(${placeholder}, 'UTC')`;
