import { describe, expect, it } from "vitest";
import { backoffSeconds } from "../../consumers/backoff.ts";

describe("backoffSeconds", () => {
  it("doubles from 5 s and stops at 10 minutes", () => {
    expect([1, 2, 3, 4, 8, 50].map(backoffSeconds)).toEqual([5, 10, 20, 40, 600, 600]);
  });
});
