/**
 * WebSocket tokens (core/property/ws-token.ts): keyed by WS_TOKEN_SECRET when set, else by a key
 * HKDF derives from ADMIN_TOKEN (checked against Node's own HKDF and HMAC), never by the admin token
 * itself; a token from one key fails under every other, and expiry, property and tampering are checked.
 */
import { createHmac, hkdfSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  readWsToken,
  signWsToken,
  verifyWsToken,
  WS_TOKEN_INFO,
  WS_TOKEN_TTL_MS,
  wsTokenKey,
} from "../../core/property/ws-token.ts";

const ADMIN = "adm_0123456789abcdef0123456789abcdef";
const OTHER_ADMIN = "adm_fedcba9876543210fedcba9876543210";
const SECRET = "wss_00112233445566778899aabbccddeeff";
const NOW = 1_780_000_000_000;

async function keyOf(ADMIN_TOKEN: string, WS_TOKEN_SECRET = ""): Promise<CryptoKey> {
  const key = await wsTokenKey({ ADMIN_TOKEN, WS_TOKEN_SECRET });
  if (!key) throw new Error("expected a key");
  return key;
}

const macOf = (token: string) => token.split(".")[3];
const payloadOf = (token: string) => token.split(".").slice(0, 3).join(".");
const b64url = (bytes: Buffer) => bytes.toString("base64url");

describe("WebSocket token keys", () => {
  it("derives the key from ADMIN_TOKEN with HKDF-SHA256 and the info 'tally ws-token v2', not the token itself", async () => {
    const { token } = await signWsToken(await keyOf(ADMIN), "UA-1", NOW);
    const derived = Buffer.from(hkdfSync("sha256", ADMIN, new Uint8Array(0), WS_TOKEN_INFO, 32));
    expect(WS_TOKEN_INFO).toBe("tally ws-token v2");
    expect(macOf(token)).toBe(b64url(createHmac("sha256", derived).update(payloadOf(token)).digest()));
    // Neither a plain HMAC under the admin token nor the former `tally-ws-token:` prefix scheme.
    expect(macOf(token)).not.toBe(b64url(createHmac("sha256", ADMIN).update(payloadOf(token)).digest()));
    expect(macOf(token)).not.toBe(
      b64url(createHmac("sha256", `tally-ws-token:${ADMIN}`).update(payloadOf(token)).digest()),
    );
  });

  it("keys tokens by WS_TOKEN_SECRET when it is set, ignoring ADMIN_TOKEN", async () => {
    const { token } = await signWsToken(await keyOf(ADMIN, SECRET), "UA-1", NOW);
    expect(macOf(token)).toBe(b64url(createHmac("sha256", SECRET).update(payloadOf(token)).digest()));
    expect(await verifyWsToken(await keyOf(OTHER_ADMIN, SECRET), token, "UA-1", NOW)).toBe(true);
    expect(await verifyWsToken(await keyOf("", SECRET), token, "UA-1", NOW)).toBe(true);
  });

  it("has no key when both secrets are empty", async () => {
    expect(await wsTokenKey({ ADMIN_TOKEN: "", WS_TOKEN_SECRET: "" })).toBeUndefined();
  });

  it("refuses a token made under any other key", async () => {
    const keys = {
      derived: await keyOf(ADMIN),
      otherDerived: await keyOf(OTHER_ADMIN),
      secret: await keyOf(ADMIN, SECRET),
      otherSecret: await keyOf(ADMIN, `${SECRET}x`),
    };
    for (const [signer, signKey] of Object.entries(keys)) {
      const { token } = await signWsToken(signKey, "UA-1", NOW);
      for (const [verifier, verifyKey] of Object.entries(keys))
        expect(await verifyWsToken(verifyKey, token, "UA-1", NOW), `${signer} → ${verifier}`).toBe(signer === verifier);
    }
  });
});

describe("WebSocket token checks", () => {
  it("names the key that minted it, and a changed name breaks the signature", async () => {
    const key = await keyOf(ADMIN);
    const { token } = await signWsToken(key, "UA-1", NOW, "0a1b2c3d");
    expect(await readWsToken(key, token, "UA-1", NOW)).toBe("0a1b2c3d");
    expect(await readWsToken(key, token.replace(".0a1b2c3d.", ".admin."), "UA-1", NOW)).toBeUndefined();
    expect(await readWsToken(key, (await signWsToken(key, "UA-1", NOW)).token, "UA-1", NOW)).toBe("admin");
    await expect(signWsToken(key, "UA-1", NOW, "not-a-key")).rejects.toThrow();
  });

  it("accepts a token until its expiry and not a millisecond after", async () => {
    const key = await keyOf(ADMIN);
    const { token, expires_at } = await signWsToken(key, "UA-1", NOW);
    expect(expires_at).toBe(NOW + WS_TOKEN_TTL_MS);
    expect(await verifyWsToken(key, token, "UA-1", expires_at)).toBe(true);
    expect(await verifyWsToken(key, token, "UA-1", expires_at + 1)).toBe(false);
  });

  it("refuses a token for another property, a moved expiry, a changed signature and malformed text", async () => {
    const key = await keyOf(ADMIN);
    const { token } = await signWsToken(key, "UA-1", NOW);
    const [id, expires, minter, mac] = token.split(".");
    expect(await verifyWsToken(key, token, "UA-2", NOW)).toBe(false);
    expect(await verifyWsToken(key, `${id}.${Number(expires) + 60_000}.${minter}.${mac}`, "UA-1", NOW)).toBe(false);
    const flipped = `${mac?.[0] === "A" ? "B" : "A"}${mac?.slice(1)}`;
    expect(await verifyWsToken(key, `${id}.${expires}.${minter}.${flipped}`, "UA-1", NOW)).toBe(false);
    for (const bad of [
      "",
      "abc",
      "a.b",
      `${token}.x`,
      `${id}.${expires}.${minter}.`,
      `${id}.${expires}.${minter}.***`,
      `${id}.1e99.${minter}.${mac}`,
      `${id}.${expires}.${mac}`,
    ])
      expect(await verifyWsToken(key, bad, "UA-1", NOW), bad).toBe(false);
  });
});
