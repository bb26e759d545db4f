/** The edge's pure abuse checks (core/abuse.ts): credential shapes, the `d` cap, the block list. */
import { describe, expect, it } from "vitest";
import {
  addressBucket,
  BlockList,
  couldBeHost,
  isWellFormedApiKey,
  isWellFormedMpSecret,
  MAX_PLAUSIBLE_DOMAINS,
  plausibleDomains,
} from "../../core/abuse.ts";
import { newApiKey, newMpSecret } from "../../core/property/keys.ts";

describe("credential shapes", () => {
  it("accept every key and MP secret the property actor issues (200 of each)", async () => {
    for (let i = 0; i < 200; i++) {
      expect(isWellFormedApiKey((await newApiKey()).api_key)).toBe(true);
      expect(isWellFormedMpSecret(newMpSecret())).toBe(true);
    }
  });

  it.each([
    ["a bare prefix", "tk_"],
    ["a short secret", "tk_0123abcd_short"],
    ["an id that is not hex", `tk_0123abcZ_${"a".repeat(43)}`],
    ["a secret one character too long", `tk_0123abcd_${"a".repeat(44)}`],
    ["another vendor's key", `sk_live_${"a".repeat(43)}`],
  ])("refuse an API key with %s", (_, token) => {
    expect(isWellFormedApiKey(token)).toBe(false);
  });

  it.each([
    ["too short", "nope"],
    ["too long", "a".repeat(33)],
    ["outside base64url", "!".repeat(32)],
  ])("refuse an MP secret %s", (_, secret) => {
    expect(isWellFormedMpSecret(secret)).toBe(false);
  });
});

describe("Plausible's d", () => {
  it("passes up to the cap, counting repeats once", () => {
    const ten = Array.from({ length: MAX_PLAUSIBLE_DOMAINS }, (_, i) => `s${i}.example`);
    expect(plausibleDomains([...ten, ...ten])).toEqual({ ok: true, domains: ten });
  });

  it("names d, the count and the cap beyond it", () => {
    const eleven = Array.from({ length: MAX_PLAUSIBLE_DOMAINS + 1 }, (_, i) => `s${i}.example`);
    expect(plausibleDomains(eleven)).toEqual({ ok: false, message: "d: names 11 sites; at most 10 per event" });
  });

  it("looks up only names that could be hosts", () => {
    expect(couldBeHost("www.example.co.uk")).toBe(true);
    expect(couldBeHost("xn--bcher-kva.example")).toBe(true);
    for (const name of ["", "not a host", "<script>", "a/b", "x".repeat(254)]) expect(couldBeHost(name)).toBe(false);
  });
});

describe("addressBucket", () => {
  it.each([
    ["203.0.113.77", "203.0.113.77"],
    ["2001:db8:1:2::5", "2001:db8:1:2::/64"],
    ["2001:0DB8:0001:0002:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"],
    ["2001:db8::", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["::ffff:198.51.100.4", "198.51.100.4"],
    ["not an address", "not an address"],
    ["1::2::3", "1::2::3"],
  ])("limits %s as %s", (address, bucket) => {
    expect(addressBucket(address)).toBe(bucket);
  });

  it("puts every address of one /64 in one bucket, and neighbouring /64s apart", () => {
    const a = addressBucket("2001:db8:aa:bb:1:2:3:4");
    expect(addressBucket("2001:db8:aa:bb:ffff:ffff:ffff:ffff")).toBe(a);
    expect(addressBucket("2001:db8:aa:bc:1:2:3:4")).not.toBe(a);
  });
});

describe("BlockList", () => {
  it("refuses a key until its moment, rounding the seconds left up", () => {
    const list = new BlockList();
    list.block("k", 60_000);
    expect(list.secondsLeft("k", 0)).toBe(60);
    expect(list.secondsLeft("k", 59_001)).toBe(1);
    expect(list.secondsLeft("k", 60_000)).toBe(0);
    expect(list.secondsLeft("other", 0)).toBe(0);
  });

  it("stays bounded: past its size it starts over", () => {
    const list = new BlockList(2);
    list.block("a", 1000);
    list.block("b", 1000);
    list.block("c", 1000);
    expect([list.secondsLeft("a", 0), list.secondsLeft("b", 0), list.secondsLeft("c", 0)]).toEqual([0, 0, 1]);
  });
});
