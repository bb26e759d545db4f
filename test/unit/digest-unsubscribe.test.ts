/**
 * digest-unsubscribe: stateless unsubscribe tokens bind one digest of one property to the
 * deployment's secret, with a key of their own (never the WebSocket tokens' key).
 */
import { describe, expect, it } from "vitest";
import { signUnsubscribe, unsubscribeKey, unsubscribeUrl, verifyUnsubscribe } from "../../core/digest/unsubscribe.ts";
import { signWsToken, wsTokenKey } from "../../core/property/ws-token.ts";

const secrets = { ADMIN_TOKEN: `adm_${"a".repeat(32)}`, WS_TOKEN_SECRET: "" };

async function key(s = secrets): Promise<CryptoKey> {
  const k = await unsubscribeKey(s);
  if (!k) throw new Error("no key");
  return k;
}

describe("unsubscribe tokens", () => {
  it("verify for the digest and property they were made for", async () => {
    const k = await key();
    const token = await signUnsubscribe(k, "UA-1-1", "d1");
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await verifyUnsubscribe(k, "UA-1-1", "d1", token)).toBe(true);
  });

  it("fail for another digest, another property, a changed token or garbage", async () => {
    const k = await key();
    const token = await signUnsubscribe(k, "UA-1-1", "d1");
    expect(await verifyUnsubscribe(k, "UA-1-1", "d2", token)).toBe(false);
    expect(await verifyUnsubscribe(k, "UA-1-2", "d1", token)).toBe(false);
    const flipped = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
    expect(await verifyUnsubscribe(k, "UA-1-1", "d1", flipped)).toBe(false);
    for (const bad of ["", "not base64!", "x".repeat(200), token.slice(0, 20)])
      expect(await verifyUnsubscribe(k, "UA-1-1", "d1", bad)).toBe(false);
  });

  it("cannot be moved between property and digest ids through a dot", async () => {
    const k = await key();
    const token = await signUnsubscribe(k, "site.a", "b");
    expect(await verifyUnsubscribe(k, "site", "a.b", token)).toBe(false);
    await expect(signUnsubscribe(k, "site", "a.b")).rejects.toThrow(/holds a "."/);
  });

  it("stop working when the secret changes, and follow WS_TOKEN_SECRET when it is set", async () => {
    const token = await signUnsubscribe(await key(), "UA-1-1", "d1");
    expect(
      await verifyUnsubscribe(await key({ ...secrets, ADMIN_TOKEN: `adm_${"b".repeat(32)}` }), "UA-1-1", "d1", token),
    ).toBe(false);
    const withSecret = await key({ ...secrets, WS_TOKEN_SECRET: "s".repeat(40) });
    expect(await verifyUnsubscribe(withSecret, "UA-1-1", "d1", token)).toBe(false);
    const other = await signUnsubscribe(withSecret, "UA-1-1", "d1");
    expect(
      await verifyUnsubscribe(await key({ ADMIN_TOKEN: "", WS_TOKEN_SECRET: "s".repeat(40) }), "UA-1-1", "d1", other),
    ).toBe(true);
  });

  it("are not the WebSocket tokens' MAC over the same bytes", async () => {
    const ws = await wsTokenKey(secrets);
    if (!ws) throw new Error("no ws key");
    const payload = new TextEncoder().encode("UA-1-1.d1");
    const wsMac = new Uint8Array(await crypto.subtle.sign("HMAC", ws, payload));
    const token = await signUnsubscribe(await key(), "UA-1-1", "d1");
    expect(Buffer.from(wsMac).toString("base64url")).not.toBe(token);
    expect((await signWsToken(ws, "UA-1-1", 0)).token).not.toContain(token);
  });

  it("need a secret", async () => {
    expect(await unsubscribeKey({ ADMIN_TOKEN: "", WS_TOKEN_SECRET: "" })).toBeUndefined();
  });

  it("travel in a link to the unsubscribe route with every part URL-encoded", () => {
    const url = new URL(unsubscribeUrl("https://tally.example.com", "UA-1-1", "d&1", "t/k"));
    expect(url.pathname).toBe("/api/v1/digests/unsubscribe");
    expect(Object.fromEntries(url.searchParams)).toEqual({ property_id: "UA-1-1", digest_id: "d&1", token: "t/k" });
  });
});
