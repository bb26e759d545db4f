import { describe, expect, it } from "vitest";
import {
  applyPatch,
  CreatePropertySchema,
  normalizeDomain,
  originAllowed,
  PatchPropertySchema,
} from "../../core/property.ts";

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

  it("patches only what is given, merging privacy settings", () => {
    const config = {
      property_id: "UA-1-1",
      name: "Site",
      domains: ["example.com"],
      timezone: "UTC",
      disabled: false,
      hash_routing: false,
      privacy: { ip_mode: "truncate" as const, cookieless_only: false, respect_dnt: false },
      created_at: 1,
    };
    const patched = applyPatch(config, PatchPropertySchema.parse({ disabled: true, privacy: { respect_dnt: true } }));
    expect(patched).toEqual({ ...config, disabled: true, privacy: { ...config.privacy, respect_dnt: true } });
  });
});
