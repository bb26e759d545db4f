/**
 * Hostile values and bodies for the fuzz suite (test/workers/fuzz-*.test.ts, bench/fuzz.ts): a
 * seeded generator, so a failing case replays from its seed and index. Web APIs only: it runs in
 * workerd and in Node. Most cases mutate a valid request one or two fields away from valid, where
 * bugs hide; the rest are malformed, huge, deeply nested or mis-labelled bodies.
 */
import { prng } from "../../dev/prng.ts";

/** A seeded source of choices. */
export interface Rng {
  /** [0, 1) */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
}

export function seededRng(seed: number): Rng {
  const next = prng(seed);
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    pick: <T>(xs: readonly T[]): T => xs[int(xs.length)] as T,
    chance: (p) => next() < p,
  };
}

/** Strings that have broken parsers, stores and renderers somewhere. */
export const HOSTILE_STRINGS: readonly string[] = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\u0007\u001b[31m",
  "\r\n",
  "\u202eevil\u202c",
  "\u200f\u200e",
  "\ufeff",
  "\ufffe\uffff",
  "💥",
  "\ud800",
  "x\udfffy",
  "\ud83d",
  "é".normalize("NFD"),
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  "'); DROP TABLE events; --",
  "{propertyId:String}",
  "{p0:String}",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection string, sent as data on purpose
  "${jndi:ldap://x}",
  "javascript:alert(1)",
  "data:text/html,<b>x</b>",
  "vbscript:msgbox",
  "file:///etc/passwd",
  "http://",
  "https://",
  "//example.com",
  "https://exa mple.com",
  "https://[::1]:99999/",
  "https://user:pass@example.com/",
  "https://example.com/%",
  "https://xn--80ak6aa92e.com/",
  `https://example.com/${"a".repeat(3000)}`,
  "x".repeat(10_000),
  "9".repeat(400),
  "NaN",
  "Infinity",
  "-Infinity",
  "-0",
  "1e309",
  "0x1F",
  "true",
  "null",
  "undefined",
  "2026-02-31T00:00:00Z",
  "2026-13-01",
  "0000-00-00",
  "9999-12-31T23:59:59Z",
  "1970-01-01T00:00:00Z",
  "+275760-09-13T00:00:00Z",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "../../etc/passwd",
  "UA-OTHER-1",
  "tk_",
  "tk_0000000000000000_0000000000000000000000000000000000000000",
  "*",
  "%00",
  "%ED%A0%80",
  ".*",
  "(a+)+$",
  "(?=x)",
  "\\1",
  "[",
];

/** Numbers at the edges of JSON, V8, ClickHouse and dates. */
export const HOSTILE_NUMBERS: readonly number[] = [
  0,
  -0,
  -1,
  1,
  0.5,
  1e308,
  -1e308,
  Number.MIN_VALUE,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  -(2 ** 53),
  2 ** 63,
  1795685400,
  1795685400000,
  1795685400000000,
  4e12,
  -62135596800000,
];

/** Number literals JSON.stringify cannot write: inserted raw into the text (1e400 parses as Infinity). */
export const RAW_NUMBER_LITERALS: readonly string[] = [
  "1e400",
  "-1e400",
  "123456789012345678901234567890",
  "-0.0",
  "1E-400",
  "0.1e1",
];

/** Keys that reach prototypes and built-ins when code indexes objects with user input. */
export const HOSTILE_KEYS: readonly string[] = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "__defineGetter__",
  "",
  "a".repeat(200),
  "\u0000",
  "\ud800",
  "$where",
  "k.e.y",
  "visit:country",
  "event:props:__proto__",
];

const RAW_MARK = "\u0001raw:";

/** A JSON value to write with `toJsonText`; a raw number literal travels as a marked string. */
export function rawNumber(literal: string): string {
  return `${RAW_MARK}${literal}\u0001`;
}

/** JSON text of a value, with raw number literals spliced in. */
export function toJsonText(value: unknown): string {
  // JSON.stringify escapes \u0001 as the six characters \u0001: match those.
  return (JSON.stringify(value) ?? "").replace(/"\\u0001raw:([^"\\]*)\\u0001"/g, "$1");
}

/** A hostile JSON value, up to `depth` levels deep. */
export function hostileValue(r: Rng, depth = 0): unknown {
  const x = r.next();
  if (depth > 3 || x < 0.35) return r.pick(HOSTILE_STRINGS);
  if (x < 0.5) return r.pick(HOSTILE_NUMBERS);
  if (x < 0.55) return rawNumber(r.pick(RAW_NUMBER_LITERALS));
  if (x < 0.65) return r.pick([true, false, null]);
  if (x < 0.8) return Array.from({ length: r.int(5) }, () => hostileValue(r, depth + 1));
  return hostileObject(r, depth + 1);
}

function hostileObject(r: Rng, depth: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0, n = r.int(5); i < n; i++) {
    const key = r.chance(0.5) ? r.pick(HOSTILE_KEYS) : r.pick(HOSTILE_STRINGS).slice(0, 40);
    // defineProperty, so "__proto__" becomes an own key as JSON.parse would make it.
    Object.defineProperty(o, key, {
      value: hostileValue(r, depth),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return o;
}

/** A deep copy of JSON data. */
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** All paths to values inside a JSON value. */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (Array.isArray(v)) for (const [i, x] of v.entries()) paths(x, [...prefix, i], out);
  else if (isRecord(v)) for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  if (prefix.length > 0) out.push(prefix);
  return out;
}

function parentOf(root: unknown, path: (string | number)[]): Record<string | number, unknown> | undefined {
  let at: unknown = root;
  for (const p of path.slice(0, -1)) {
    if (!isRecord(at) && !Array.isArray(at)) return undefined;
    at = (at as Record<string | number, unknown>)[p];
  }
  return isRecord(at) || Array.isArray(at) ? (at as Record<string | number, unknown>) : undefined;
}

/** One mutation of a value at a path: replace, delete, retype, stretch, or grow a hostile key beside it. */
function mutateAt(r: Rng, root: unknown, path: (string | number)[]): void {
  const parent = parentOf(root, path);
  const key = path.at(-1);
  if (!parent || key === undefined) return;
  const old = parent[key];
  const x = r.next();
  if (x < 0.35) parent[key] = hostileValue(r);
  else if (x < 0.45 && !Array.isArray(parent)) delete parent[key];
  else if (x < 0.55) parent[key] = typeof old === "string" ? Number(old) || 0 : toJsonText(old);
  else if (x < 0.65) parent[key] = typeof old === "string" ? old + r.pick(HOSTILE_STRINGS) : [old];
  else if (x < 0.72)
    parent[key] = typeof old === "string" ? old.repeat(1 + r.int(r.chance(0.1) ? 2000 : 50)) : { value: old };
  else if (x < 0.8) parent[key] = Array.from({ length: 1 + r.int(r.chance(0.1) ? 300 : 30) }, () => old);
  else if (x < 0.9 && !Array.isArray(parent))
    Object.defineProperty(parent, r.pick(HOSTILE_KEYS), {
      value: hostileValue(r),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  else parent[key] = null;
}

/** The valid value with one to three mutations: most bugs hide one field away from valid. */
export function mutate<T>(r: Rng, valid: T): unknown {
  const root = { v: clone(valid) };
  for (let i = 0, n = 1 + r.int(3); i < n; i++) {
    const all = paths(root.v, ["v"]);
    const target = all.length > 0 && r.chance(0.9) ? r.pick(all) : ["v"];
    mutateAt(r, root, target);
  }
  return root.v;
}

/** A gzip stream of `bytes` (CompressionStream: workerd and Node both have it). */
export async function gzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Precomputed compressed bodies: made once, as compressing in every case would dominate the run. */
export interface FuzzAssets {
  /** 8 MB of zeros inside ~8 KB of gzip: a bomb small enough to run, far beyond any body limit. */
  bomb: Uint8Array<ArrayBuffer>;
  /** gzip cut in half: a corrupt stream. */
  truncatedGzip: Uint8Array<ArrayBuffer>;
}

export async function fuzzAssets(): Promise<FuzzAssets> {
  const bomb = await gzip(new Uint8Array(8 * 1024 * 1024));
  const small = await gzip(new Uint8Array(new TextEncoder().encode(JSON.stringify({ hello: "x".repeat(1000) }))));
  return { bomb, truncatedGzip: small.slice(0, Math.floor(small.length / 2)) };
}

/** A request body as sent: text, or bytes with the headers that describe (or misdescribe) them. */
export interface EncodedBody {
  body: string | Uint8Array<ArrayBuffer> | undefined;
  headers: Record<string, string>;
  /** What was done to the body, for failure messages. */
  how: string;
}

/**
 * Encodes a (possibly mutated) JSON value as a body, or replaces it with something hostile:
 * truncated, nested 50,000 deep, random bytes, oversized, gzip (honest, lying, bombs, corrupt),
 * duplicate keys, a byte-order mark, wrong media types.
 */
export function hostileBody(r: Rng, value: unknown, assets: FuzzAssets): EncodedBody {
  const text = toJsonText(value);
  const x = r.next();
  if (x < 0.62) return { body: text, headers: {}, how: "json" };
  if (x < 0.66) return { body: text.slice(0, r.int(text.length)), headers: {}, how: "truncated" };
  if (x < 0.68) return { body: `${"[".repeat(1 + r.int(50_000))}1`, headers: {}, how: "nested" };
  if (x < 0.7)
    return {
      body: `${'{"a":'.repeat(1 + r.int(20_000))}1${"}".repeat(r.int(20_000))}`,
      headers: {},
      how: "nested-objects",
    };
  if (x < 0.73)
    return { body: Uint8Array.from({ length: r.int(400) }, () => r.int(256)), headers: {}, how: "random-bytes" };
  if (x < 0.75) return { body: "", headers: {}, how: "empty" };
  if (x < 0.765)
    return { body: `[${`${text},`.repeat(Math.ceil(300_000 / (text.length + 1)))}1]`, headers: {}, how: "oversized" };
  if (x < 0.79) return { body: `\ufeff${text}`, headers: {}, how: "bom" };
  if (x < 0.81)
    return {
      body: text.replace(/^\{/, '{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}},'),
      headers: {},
      how: "proto-keys",
    };
  if (x < 0.83) return { body: text.replace(/^\{"([^"]+)":/, '{"$1":null,"$1":'), headers: {}, how: "duplicate-key" };
  if (x < 0.86) return { body: assets.bomb, headers: { "Content-Encoding": "gzip" }, how: "gzip-bomb" };
  if (x < 0.88) return { body: assets.truncatedGzip, headers: { "Content-Encoding": "gzip" }, how: "corrupt-gzip" };
  if (x < 0.91)
    return {
      body: text,
      headers: { "Content-Encoding": r.pick(["gzip", "br", "deflate", "x-evil", "gzip, gzip", "GZIP"]) },
      how: "encoding-lie",
    };
  return {
    body: text,
    headers: {
      "Content-Type": r.pick([
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        "application/json; charset=utf-16",
        "text/html",
        "application/json;;;",
        "x".repeat(5000),
        "",
        "application/x-ndjson",
      ]),
    },
    how: "content-type",
  };
}

/** Percent-encodes any string, lone surrogates included (as the raw bytes a hostile client would send). */
export function encodeQueryValue(s: string): string {
  return s.isWellFormed()
    ? encodeURIComponent(s)
    : encodeURIComponent(s.toWellFormed()).replace(/%EF%BF%BD/g, "%ED%A0%80");
}
