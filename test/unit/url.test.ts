import { expect, it } from "vitest";
import { parseUrl } from "../../core/url.ts";

it("parses a URL once while it is recent, and answers as URL.parse does", () => {
  const first = parseUrl("https://example.com/a?b=1");
  expect(parseUrl("https://example.com/a?b=1")).toBe(first);
  expect(first?.href).toBe("https://example.com/a?b=1");
  expect(parseUrl("not a url")).toBeNull();
  expect(parseUrl("not a url")).toBeNull();
  // Past the memo's size, every answer is still right.
  for (let i = 0; i < 200; i++) expect(parseUrl(`https://e${i}.example/`)?.hostname).toBe(`e${i}.example`);
  expect(parseUrl("https://example.com/a?b=1")?.searchParams.get("b")).toBe("1");
});
