/**
 * The team's pure core (issue #21): roles and what they allow, password hashing, the bearer tokens'
 * shapes, and saved funnels' owner stamps.
 */
import { describe, expect, it } from "vitest";
import { type SavedFunnel, stampFunnels } from "../../core/property/funnels.ts";
import { hashPassword, verifyPassword } from "../../core/team/password.ts";
import { actorOf, allows, capabilitiesOf, mayGrant } from "../../core/team/roles.ts";
import { newToken, parseSessionCookie, readToken, sessionCookieValue, tokenKind } from "../../core/team/tokens.ts";

describe("roles", () => {
  it("nest: viewer ⊂ editor ⊂ admin ⊂ owner, and only the admin token operates the deployment", () => {
    const caps = (role: "viewer" | "editor" | "admin" | "owner") => [
      ...capabilitiesOf({ kind: "account", email: "a@b.c", role }),
    ];
    expect(caps("viewer")).toEqual(["view", "read"]);
    expect(caps("editor")).toEqual(["view", "read", "write"]);
    expect(caps("admin")).toEqual(["view", "read", "write", "manage", "people"]);
    expect(caps("owner")).toEqual(["view", "read", "write", "manage", "people", "own"]);
    expect(allows({ kind: "admin" }, "operate")).toBe(true);
    expect(allows({ kind: "account", email: "a@b.c", role: "owner" }, "operate")).toBe(false);
  });

  it("keys never hand out access; links and public pages only view the reports", () => {
    expect([...capabilitiesOf({ kind: "key", key_id: "k", role: "owner" })]).toEqual([
      "view",
      "read",
      "write",
      "manage",
    ]);
    expect([...capabilitiesOf({ kind: "share", share_id: "s" })]).toEqual(["view"]);
    expect([...capabilitiesOf({ kind: "public" })]).toEqual(["view"]);
  });

  it("admins grant up to admin; owners and the admin token any role; keys none", () => {
    const admin = { kind: "account", email: "a@b.c", role: "admin" } as const;
    expect(mayGrant(admin, "admin")).toBe(true);
    expect(mayGrant(admin, "owner")).toBe(false);
    expect(mayGrant({ ...admin, role: "owner" }, "owner")).toBe(true);
    expect(mayGrant({ kind: "admin" }, "owner")).toBe(true);
    expect(mayGrant({ kind: "key", key_id: "k", role: "admin" }, "viewer")).toBe(false);
    expect(actorOf({ kind: "key", key_id: "0a1b2c3d", role: "viewer" })).toBe("key 0a1b2c3d");
  });
});

describe("passwords", () => {
  it("are salted PBKDF2 hashes that verify only the same password", async () => {
    const a = await hashPassword("correct horse battery");
    const b = await hashPassword("correct horse battery");
    expect(a).toMatch(/^pbkdf2-sha256\$100000\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain("horse");
    expect(await verifyPassword("correct horse battery", a)).toBe(true);
    expect(await verifyPassword("correct horse batterY", a)).toBe(false);
    expect(await verifyPassword("anything", "md5$x")).toBe(false);
  });
});

describe("tokens", () => {
  it("carry their kind and id; the secret is kept only as a hash", async () => {
    const t = await newToken("shr");
    expect(tokenKind(t.token)).toBe("shr");
    expect(await readToken("shr", t.token)).toEqual({ id: t.id, hash: t.hash });
    expect(await readToken("inv", t.token)).toBeUndefined();
    expect(t.token).not.toContain(t.hash);
    const cookie = sessionCookieValue("a".repeat(64), (await newToken("ses")).token);
    expect(parseSessionCookie(cookie)?.account_id).toBe("a".repeat(64));
    expect(parseSessionCookie(`${"a".repeat(63)}.x`)).toBeUndefined();
  });
});

describe("saved funnels' owner and last change", () => {
  const steps = [
    { kind: "page", value: "/" },
    { kind: "page", value: "/pricing" },
  ] as SavedFunnel["steps"];
  it("stamps new and changed funnels, keeps unchanged ones, and ignores stamps sent back", () => {
    const first = stampFunnels([{ id: "f", name: "F", steps }], [], "ann@example.com", 1);
    expect(first[0]).toMatchObject({ owner: "ann@example.com", updated_by: "ann@example.com", updated_at: 1 });
    const forged = { ...first[0], owner: "mallory" } as SavedFunnel;
    const same = stampFunnels([forged], first, "bob@example.com", 2);
    expect(same[0]).toMatchObject({ owner: "ann@example.com", updated_by: "ann@example.com", updated_at: 1 });
    const renamed = stampFunnels([{ id: "f", name: "G", steps }], first, "bob@example.com", 3);
    expect(renamed[0]).toMatchObject({ owner: "ann@example.com", updated_by: "bob@example.com", updated_at: 3 });
  });
});
