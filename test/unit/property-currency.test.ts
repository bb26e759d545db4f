/**
 * A property's revenue currency (issue #15): ISO 4217 codes only, USD when a configuration names
 * none (created before the setting existed, or without it), changeable by a patch.
 */
import { describe, expect, it } from "vitest";
import {
  applyPatch,
  CreatePropertySchema,
  isCurrencyCode,
  PatchPropertySchema,
  type PropertyConfig,
  propertyCurrency,
} from "../../core/property/property.ts";

describe("property currency", () => {
  it.each([
    ["USD", true],
    ["EUR", true],
    ["JPY", true],
    ["usd", false],
    ["EURO", false],
    ["EUX", false],
    ["", false],
  ])("%j is an ISO 4217 code: %s", (code, ok) => {
    expect(isCurrencyCode(code)).toBe(ok);
  });

  it("defaults to USD on creation and refuses a bad code, naming the field", () => {
    expect(CreatePropertySchema.parse({ name: "Site", domains: ["example.com"] }).currency).toBe("USD");
    expect(CreatePropertySchema.parse({ name: "Site", domains: ["example.com"], currency: "EUR" }).currency).toBe(
      "EUR",
    );
    const bad = CreatePropertySchema.safeParse({ name: "Site", domains: ["example.com"], currency: "eur" });
    expect(bad.error?.issues.map((i) => i.path.join("."))).toEqual(["currency"]);
  });

  it("is USD for configurations stored without one, and a patch changes it", () => {
    const stored: PropertyConfig = {
      property_id: "UA-1-1",
      name: "Site",
      domains: ["example.com"],
      timezone: "UTC",
      disabled: false,
      hash_routing: false,
      privacy: { ip_mode: "truncate", cookieless_only: false, respect_dnt: false, query_params: [] },
      created_at: 0,
    };
    expect(propertyCurrency(stored)).toBe("USD");
    const patched = applyPatch(stored, PatchPropertySchema.parse({ currency: "GBP" }));
    expect(propertyCurrency(patched)).toBe("GBP");
    expect(PatchPropertySchema.safeParse({ currency: "GB" }).success).toBe(false);
  });
});
