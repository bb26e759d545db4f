import { expect, it } from "vitest";
import { jsonSizeBound } from "../../core/json-size.ts";
import { prng } from "../../core/prng.ts";
import { makeEvent } from "../support/events.ts";

const utf8 = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).byteLength;

const ALPHABET = ["a", "Z", " ", '"', "\\", "\n", "\u0000", "\u001f", "é", "€", "😀", "\ud800", "\udfff", "~", "/"];

function randomValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 3 ? 5 : 7));
  const text = () =>
    Array.from({ length: Math.floor(next() * 12) }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join("");
  switch (pick) {
    case 0:
      return text();
    case 1:
      return [0, -0, 1.5, -1e-308, 2 ** 53 + 2, Number.NaN, 123456789][Math.floor(next() * 7)];
    case 2:
      return next() < 0.5;
    case 3:
      return null;
    case 4:
      return undefined;
    case 5:
      return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: Math.floor(next() * 4) }, () => [text(), randomValue(next, depth + 1)]),
      );
  }
}

it("never underestimates what JSON.stringify writes, over thousands of generated values", () => {
  const next = prng(7);
  for (let i = 0; i < 5_000; i++) {
    const value = randomValue(next, 0);
    const written = JSON.stringify(value);
    if (written === undefined) continue;
    expect(jsonSizeBound(value)).toBeGreaterThanOrEqual(utf8(value));
  }
});

it("is exact for printable ASCII strings and integers, close for a typical event", () => {
  expect(jsonSizeBound("https://example.com/a?b=c")).toBe(utf8("https://example.com/a?b=c"));
  expect(jsonSizeBound(-12345)).toBe(6);
  const event = makeEvent({ custom_dimensions: { plan: "pro" } });
  expect(jsonSizeBound(event)).toBeGreaterThanOrEqual(utf8(event));
  expect(jsonSizeBound(event)).toBeLessThan(utf8(event) * 1.1);
});

it("gives no bound for values with their own serialisation", () => {
  expect(jsonSizeBound({ at: new Date(0) })).toBe(Number.POSITIVE_INFINITY);
});
