/** Goal contracts (core/property/goals.ts): the schema's field-naming errors and the page-pattern regex. */
import { describe, expect, it } from "vitest";
import { describeIssues, toFieldIssues } from "../../core/issues.ts";
import { CreateGoalSchema, GoalSchema, GoalsSchema, goalPathRegex, MAX_GOALS } from "../../core/property/goals.ts";

/** The 400 message the API would give for `input`, or "ok". */
function verdict(input: unknown): string {
  const result = CreateGoalSchema.safeParse(input);
  return result.success ? "ok" : describeIssues(toFieldIssues(result.error));
}

describe("GoalSchema", () => {
  it("accepts a page goal and an event goal, trimming the name", () => {
    expect(GoalSchema.parse({ name: " Pricing ", kind: "page", page_path: "/pricing/**" })).toEqual({
      name: "Pricing",
      kind: "page",
      page_path: "/pricing/**",
    });
    expect(GoalSchema.parse({ name: "Signup", kind: "event", event_name: "signup" })).toEqual({
      name: "Signup",
      kind: "event",
      event_name: "signup",
    });
  });

  it.each([
    [{ kind: "page", page_path: "/" }, "name: is required"],
    [{ name: "   ", kind: "page", page_path: "/" }, "name: must not be empty"],
    [{ name: "x".repeat(121), kind: "page", page_path: "/" }, "name: must be at most 120 characters"],
    [{ name: "a\u0007b", kind: "page", page_path: "/" }, "name: must be valid Unicode without control characters"],
    [{ name: "bad \ud800", kind: "page", page_path: "/" }, "name: must be valid Unicode without control characters"],
    [{ name: "g" }, "kind: is required"],
    [{ name: "g", kind: "visit" }, 'kind: must be "page" or "event"'],
    [{ name: "g", kind: "page" }, 'page_path: is required when kind is "page"'],
    [{ name: "g", kind: "event" }, 'event_name: is required when kind is "event"'],
    [{ name: "g", kind: "page", page_path: "pricing" }, 'page_path: must start with "/"'],
    [{ name: "g", kind: "page", page_path: `/${"a".repeat(500)}` }, "page_path: must be at most 500 characters"],
    [{ name: "g", kind: "page", page_path: "/a\nb" }, "page_path: must be valid Unicode without control characters"],
    [{ name: "g", kind: "page", page_path: 42 }, "page_path: must be a string"],
    [{ name: "g", kind: "event", event_name: "" }, "event_name: must not be empty"],
    [{ name: "g", kind: "event", event_name: "e".repeat(121) }, "event_name: must be at most 120 characters"],
    [{ name: "g", kind: "page", page_path: "/", event_name: "x" }, 'event_name: is not allowed when kind is "page"'],
    [{ name: "g", kind: "event", event_name: "x", page_path: "/" }, 'page_path: is not allowed when kind is "event"'],
    [{ name: "g", kind: "page", page_path: "/", target: 3 }, "target: is not a known field"],
    ["signup", "body: must be an object"],
  ])("refuses %j naming the field: %s", (input, message) => {
    expect(verdict(input)).toBe(message);
  });
});

describe("GoalsSchema", () => {
  const goal = (name: string) => ({ name, kind: "event", event_name: name });

  it("refuses names that differ only in case, naming the duplicate", () => {
    const result = GoalsSchema.safeParse([goal("Signup"), goal("Trial"), goal("SIGNUP")]);
    expect(result.success).toBe(false);
    if (!result.success)
      expect(describeIssues(toFieldIssues(result.error))).toBe('[2].name: duplicate goal name "SIGNUP"');
  });

  it(`holds at most ${MAX_GOALS} goals`, () => {
    const many = Array.from({ length: MAX_GOALS }, (_, i) => goal(`g${i}`));
    expect(GoalsSchema.safeParse(many).success).toBe(true);
    expect(GoalsSchema.safeParse([...many, goal("one more")]).success).toBe(false);
  });
});

describe("goalPathRegex", () => {
  it.each([
    ["/", "^/$"],
    ["/pricing", "^/pricing$"],
    ["/blog/*", "^/blog/[^/]*$"],
    ["/blog/**", "^/blog/.*$"],
    ["/a.b+c?(d)|[e]{f}^$\\g", "^/a\\.b\\+c\\?\\(d\\)\\|\\[e\\]\\{f\\}\\^\\$\\\\g$"],
  ])("turns %s into %s", (pattern, regex) => {
    expect(goalPathRegex(pattern)).toBe(regex);
  });

  // Checked with JavaScript's `u` mode, which, like RE2, refuses escapes of ordinary characters.
  const matches = (pattern: string, path: string) => new RegExp(goalPathRegex(pattern), "u").test(path);

  it.each([
    ["/pricing", "/pricing", true],
    ["/pricing", "/pricing/", false],
    ["/pricing", "/pricing/enterprise", false],
    ["/pricing", "/old/pricing", false],
    ["/blog/*", "/blog/", true],
    ["/blog/*", "/blog/hello", true],
    ["/blog/*", "/blog/hello/comments", false],
    ["/blog/*", "/blog", false],
    ["/blog/**", "/blog/hello/comments", true],
    ["/blog/**", "/blog/", true],
    ["/blog/**", "/blog", false],
    ["/blog/**", "/blogs/x", false],
    ["/*/checkout", "/shop/checkout", true],
    ["/*/checkout", "/shop/eu/checkout", false],
    ["/**/checkout", "/shop/eu/checkout", true],
    ["/**/checkout", "/checkout", false],
    ["/docs/*.html", "/docs/intro.html", true],
    ["/docs/*.html", "/docs/introxhtml", false],
    ["/docs/*.html", "/docs/a/b.html", false],
    ["/thank-you.html", "/thank-youXhtml", false],
    ["/c++/guide", "/c++/guide", true],
    ["/c++/guide", "/ccc/guide", false],
    ["/what?", "/what?", true],
    ["/what?", "/wha", false],
    ["/what?", "/what", false],
    ["/(beta)/join", "/(beta)/join", true],
    ["/(beta)/join", "/beta/join", false],
    ["/a|b", "/a|b", true],
    ["/a|b", "b", false],
    ["/a|b", "/a", false],
    ["/price-$", "/price-$", true],
    ["/[x]/{y}", "/[x]/{y}", true],
    ["/[x]/{y}", "/x/y", false],
    ["/^top", "/^top", true],
    ["/back\\slash", "/back\\slash", true],
    ["/#/settings/*", "/#/settings/profile", true],
    ["/café/*", "/café/menu", true],
    ["/**", "/anything/at/all", true],
    ["/*", "/", true],
    ["/*", "/a/b", false],
  ])("pattern %s against %s → %s", (pattern, path, expected) => {
    expect(matches(pattern, path)).toBe(expected);
  });
});
