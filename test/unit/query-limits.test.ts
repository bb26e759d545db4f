/**
 * The query language's and import's bounds as pure functions: whitelists that accept own keys only,
 * filter trees bounded in depth, list length and size, and the NDJSON reader's byte and line caps.
 */
import { describe, expect, it } from "vitest";
import { AppError } from "../../core/errors.ts";
import { FILTER_LIMITS, type Filter, filterNodes, isDimension, QuerySpecSchema } from "../../core/query/spec.ts";
import { ndjsonLines } from "../../workers/import/lines.ts";

const spec = (filters: unknown[]) =>
  QuerySpecSchema.safeParse({ property_id: "UA-1-1", metrics: ["visitors"], filters });
const leaf = (i: number): Filter => ["is", "event:page", [`/${i}`]];
const messages = (r: ReturnType<typeof spec>) =>
  r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);

describe("dimension whitelist", () => {
  it.each(["constructor", "toString", "__proto__", "valueOf", "hasOwnProperty", "isPrototypeOf"])(
    "does not take the inherited key %s for a dimension",
    (name) => expect(isDimension(name)).toBe(false),
  );

  it("still takes every listed, time and props dimension", () => {
    for (const d of ["event:page", "visit:visitor_type", "time:day", "event:props:plan"])
      expect(isDimension(d)).toBe(true);
  });
});

describe("filter tree bounds", () => {
  it("counts leaves and combinators", () => {
    expect(filterNodes(["and", [leaf(1), ["not", leaf(2)], ["or", [leaf(3), leaf(4)]]]])).toBe(7);
  });

  it("takes a list of exactly the limit and refuses one more, inside and/or and at the top", () => {
    const full = Array.from({ length: FILTER_LIMITS.list }, (_, i) => leaf(i));
    expect(spec([["or", full]]).success).toBe(true);
    expect(messages(spec([["or", [...full, leaf(99)]]]))).toEqual([
      `filters.0.1: holds ${FILTER_LIMITS.list + 1} filters; at most ${FILTER_LIMITS.list}`,
    ]);
    expect(messages(spec([...full, leaf(99)]))[0]).toMatch(/^filters: at most 50 filters/);
  });

  it("refuses a tree of more nodes than the limit in all, even when each list is within its own", () => {
    const group: Filter = ["and", Array.from({ length: 49 }, (_, i) => leaf(i))];
    expect(spec([group, group, group, group]).success).toBe(true); // 200 nodes
    expect(messages(spec([group, group, group, group, leaf(1)]))).toEqual([
      "filters: hold 201 filters and combinators in all; at most 200",
    ]);
  });

  it("refuses nesting deeper than the limit", () => {
    let f: Filter = leaf(0);
    for (let i = 0; i <= FILTER_LIMITS.depth; i++) f = ["not", f];
    expect(messages(spec([f])).join()).toContain(`nests deeper than ${FILTER_LIMITS.depth} levels`);
  });
});

describe("NDJSON reader bounds", () => {
  const stream = (text: string, chunk = 7) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        const bytes = new TextEncoder().encode(text);
        for (let i = 0; i < bytes.length; i += chunk) controller.enqueue(bytes.slice(i, i + chunk));
        controller.close();
      },
    });
  const tooLarge = (what: string) => new AppError("payload_too_large", 413, `body: ${what}`);
  const read = async (text: string, maxBytes: number, maxLines: number) => {
    const lines: number[] = [];
    try {
      for await (const [n] of ndjsonLines(stream(text), 1000, { maxBytes, maxLines, tooLarge })) lines.push(n);
      return { lines, error: undefined };
    } catch (error) {
      return { lines, error: error as AppError };
    }
  };

  it("yields every line of a body at both limits", async () => {
    const text = "a\n\nb\nc"; // 6 bytes, 3 events (the empty line is not one)
    expect(await read(text, 6, 3)).toEqual({ lines: [1, 3, 4], error: undefined });
  });

  it("refuses the event past maxLines with 413, after yielding those before it", async () => {
    const { lines, error } = await read("a\nb\nc\nd\n", 100, 3);
    expect(lines).toEqual([1, 2, 3]);
    expect(error).toMatchObject({ status: 413, message: "body: holds more than 3 events" });
  });

  it("refuses a body past maxBytes with 413 as it streams", async () => {
    const { error } = await read(`${"x".repeat(30)}\n${"y".repeat(30)}\n`, 40, 100);
    expect(error).toMatchObject({ status: 413, message: "body: exceeds 40 bytes" });
  });
});
