import { describe, expect, it } from "vitest";
import { POOLED_ARCHIVE_ID } from "../../core/event.ts";
import {
  applyPatch,
  CreatePropertySchema,
  normalizeDomain,
  originAllowed,
  PatchPropertySchema,
} from "../../core/property/property.ts";

describe("property configuration", () => {
  it.each([
    ["example.com", "example.com"],
    ["https://WWW.Example.com:8443/path", "www.example.com"],
    ["http://localhost:3000", "localhost"],
  ])("normalises the domain %s to %s", (input, expected) => {
    expect(normalizeDomain(input)).toBe(expected);
  });

  it("fills defaults on creation and names bad fields", () => {
    expect(CreatePropertySchema.parse({ name: "Site", domains: ["example.com"] })).toMatchObject({
      timezone: "UTC",
      privacy: { ip_mode: "truncate", cookieless_only: false, respect_dnt: false },
    });
    const bad = CreatePropertySchema.safeParse({ name: "", domains: [], timezone: "Mars/Olympus" });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join("."))).toEqual(["name", "domains", "timezone"]);
  });

  it.each([
    ["https://example.com", true],
    ["https://shop.example.com:8443", true],
    ["https://evil-example.com", false],
    ["https://example.com.evil.net", false],
    ["null", false],
  ])("judges origin %s as allowed=%s for example.com", (origin, allowed) => {
    expect(originAllowed(origin, ["example.com"])).toBe(allowed);
  });

  it("refuses the id the archive reserves for pooled small property-hours", () => {
    const taken = CreatePropertySchema.safeParse({ property_id: POOLED_ARCHIVE_ID, name: "Site", domains: ["a.com"] });
    expect(taken.success).toBe(false);
    expect(taken.error?.issues[0]).toMatchObject({ path: ["property_id"], message: "is reserved for the archive" });
    expect(
      CreatePropertySchema.safeParse({ property_id: "tally-pooled2", name: "S", domains: ["a.com"] }).success,
    ).toBe(true);
  });

  it("patches only what is given, merging privacy settings", () => {
    const config = {
      property_id: "UA-1-1",
      name: "Site",
      domains: ["example.com"],
      timezone: "UTC",
      disabled: false,
      hash_routing: false,
      privacy: { ip_mode: "truncate" as const, cookieless_only: false, respect_dnt: false, query_params: [] },
      created_at: 1,
    };
    const patched = applyPatch(config, PatchPropertySchema.parse({ disabled: true, privacy: { respect_dnt: true } }));
    expect(patched).toEqual({ ...config, disabled: true, privacy: { ...config.privacy, respect_dnt: true } });
  });
});

describe("rate-limit budgets", () => {
  it("match wrangler.toml: the binding limits are the spec's budgets in tokens", async () => {
    const { readFileSync } = await import("node:fs");
    const toml = readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8");
    const limit = (name: string) => Number(new RegExp(`name = "${name}"[\\s\\S]*?limit = (\\d+)`).exec(toml)?.[1]);
    const { IP_EVENTS_PER_MINUTE, IP_TOKEN_EVENTS, PROPERTY_EVENTS_PER_MINUTE, PROPERTY_TOKEN_EVENTS } = await import(
      "../../core/ingest/rate-limits.ts"
    );
    expect(limit("IP_RATE_LIMITER") * IP_TOKEN_EVENTS).toBe(IP_EVENTS_PER_MINUTE);
    expect(limit("PROPERTY_RATE_LIMITER") * PROPERTY_TOKEN_EVENTS).toBe(PROPERTY_EVENTS_PER_MINUTE);
  });
});
