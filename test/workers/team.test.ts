/**
 * People, sharing and what a team keeps (issue #21), over the real Worker, AccountDO and TeamDO:
 * invitation → account → cookie session → role-limited routes; sign-out (one, everywhere) and the
 * account lock; shared links (plain, password, expiring, revoked) and the public switch; saved items,
 * annotations and the audit log.
 */
import { describe, expect, it } from "vitest";
import { ADMIN, call, createProperty, envelope } from "./helpers.ts";

const JSON_HEADERS = { "Content-Type": "application/json" };
const post = (path: string, body: unknown, headers: Record<string, string> = ADMIN) =>
  call(path, { method: "POST", headers: { ...headers, ...JSON_HEADERS }, body: JSON.stringify(body) });

/** The admin token invites `email` as `role`; the person accepts with a password: their cookie. */
async function join(
  propertyId: string,
  email: string,
  role: string,
  password = "correct horse battery",
): Promise<string> {
  const invited = await post(`/api/v1/properties/${propertyId}/invitations`, { email, role });
  expect(invited.status).toBe(201);
  const { url } = await invited.json<{ url: string }>();
  const token = url.split("#")[1] ?? "";
  const accepted = await post("/api/v1/invitations/accept", { property_id: propertyId, token, email, password }, {});
  expect(accepted.status).toBe(200);
  return cookieOf(accepted);
}

function cookieOf(res: Response): string {
  const set = res.headers.get("set-cookie") ?? "";
  expect(set).toMatch(/HttpOnly/i);
  expect(set).toMatch(/Secure/i);
  expect(set).toMatch(/SameSite=Strict/i);
  return set.split(";")[0] ?? "";
}

const as = (cookie: string) => ({ Cookie: cookie, Origin: "http://tally.test" });

describe("invitations, accounts and sessions", () => {
  it("an invited viewer signs up, sees reports, and is refused what viewers may not do", async () => {
    const p = await createProperty({ property_id: "UA-TEAM-1" });
    const cookie = await join(p.property_id, "Viewer@Example.com", "viewer");
    const me = await (await call("/api/v1/auth/me", { headers: as(cookie) })).json<{
      email: string;
      properties: unknown[];
    }>();
    expect(me).toEqual({
      email: "viewer@example.com",
      name: "viewer",
      properties: [{ property_id: "UA-TEAM-1", role: "viewer" }],
    });
    const access = await (await call(`/api/v1/properties/${p.property_id}/access`, { headers: as(cookie) })).json<{
      capabilities: string[];
    }>();
    expect(access.capabilities).toEqual(["view", "read"]);
    const query = await post(
      "/api/v1/query",
      { property_id: p.property_id, metrics: ["visitors"], date_range: "7d" },
      as(cookie),
    );
    expect(query.status).toBe(200);
    expect((await call(`/api/v1/properties/${p.property_id}/members`, { headers: as(cookie) })).status).toBe(403);
    const goal = await post(
      `/api/v1/properties/${p.property_id}/goals`,
      { name: "Signup", event_name: "signup" },
      as(cookie),
    );
    expect(goal.status).toBe(403);
    expect((await envelope(goal)).error.message).toMatch(/role viewer/);
    // Another property: not a member.
    const other = await createProperty({ property_id: "UA-TEAM-1B" });
    expect((await call(`/api/v1/properties/${other.property_id}/access`, { headers: as(cookie) })).status).toBe(403);
  });

  it("refuses an invitation for someone else, a used one, and a cross-site write with the cookie", async () => {
    const p = await createProperty({ property_id: "UA-TEAM-2" });
    const invited = await post(`/api/v1/properties/${p.property_id}/invitations`, {
      email: "a@example.com",
      role: "editor",
    });
    const token = (await invited.json<{ url: string }>()).url.split("#")[1] ?? "";
    const look = await call(`/api/v1/invitations/${p.property_id}/${token}`);
    expect(await look.json()).toMatchObject({ email: "a@example.com", role: "editor", account_exists: false });
    const wrong = await post(
      "/api/v1/invitations/accept",
      { property_id: p.property_id, token, email: "b@example.com", password: "0123456789" },
      {},
    );
    expect(wrong.status).toBe(403);
    const ok = await post(
      "/api/v1/invitations/accept",
      { property_id: p.property_id, token, email: "a@example.com", password: "0123456789" },
      {},
    );
    expect(ok.status).toBe(200);
    const again = await post(
      "/api/v1/invitations/accept",
      { property_id: p.property_id, token, email: "a@example.com", password: "0123456789" },
      {},
    );
    expect(again.status).toBe(404);
    const cookie = cookieOf(ok);
    const crossSite = await post(
      `/api/v1/properties/${p.property_id}/annotations`,
      { date: "2026-11-30", text: "x" },
      {
        Cookie: cookie,
        Origin: "https://evil.example",
      },
    );
    expect(crossSite.status).toBe(403);
    const sameSite = await post(
      `/api/v1/properties/${p.property_id}/annotations`,
      { date: "2026-11-30", text: "Launch" },
      as(cookie),
    );
    expect(sameSite.status).toBe(201);
  });

  it("signs in and out, everywhere, and locks an account after 10 wrong passwords", async () => {
    const p = await createProperty({ property_id: "UA-TEAM-3" });
    const first = await join(p.property_id, "owner@example.com", "owner");
    const signIn = (password: string) => post("/api/v1/auth/sign-in", { email: "owner@example.com", password }, {});
    const second = cookieOf(await signIn("correct horse battery"));
    expect((await call("/api/v1/auth/me", { headers: as(second) })).status).toBe(200);
    await post("/api/v1/auth/sign-out", {}, as(second));
    expect((await call("/api/v1/auth/me", { headers: as(second) })).status).toBe(401);
    expect((await call("/api/v1/auth/me", { headers: as(first) })).status).toBe(200);
    const third = cookieOf(await signIn("correct horse battery"));
    expect((await post("/api/v1/auth/sign-out-everywhere", {}, as(third))).status).toBe(204);
    expect((await call("/api/v1/auth/me", { headers: as(first) })).status).toBe(401);
    expect((await call("/api/v1/auth/me", { headers: as(third) })).status).toBe(401);
    for (let i = 0; i < 10; i++) expect((await signIn("wrong password")).status).toBe(401);
    const locked = await signIn("correct horse battery");
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    const audit = await (await call(`/api/v1/properties/${p.property_id}/audit`, { headers: ADMIN })).json<{
      entries: { action: string; actor: string }[];
    }>();
    const actions = audit.entries.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(["member_invited", "invitation_accepted", "sign_in", "sign_out_everywhere"]),
    );
  });

  it("keeps an owner: the last one can be neither demoted nor removed; admins cannot make owners", async () => {
    const p = await createProperty({ property_id: "UA-TEAM-4" });
    const owner = await join(p.property_id, "o@example.com", "owner");
    const admin = await join(p.property_id, "ad@example.com", "admin");
    const patch = (email: string, role: string, who: string) =>
      call(`/api/v1/properties/${p.property_id}/members/${email}`, {
        method: "PATCH",
        headers: { ...as(who), ...JSON_HEADERS },
        body: JSON.stringify({ role }),
      });
    expect((await patch("o@example.com", "viewer", owner)).status).toBe(409);
    expect((await patch("ad@example.com", "owner", admin)).status).toBe(403);
    expect((await patch("ad@example.com", "editor", owner)).status).toBe(200);
    expect((await call(`/api/v1/properties/${p.property_id}/members`, { headers: as(admin) })).status).toBe(403);
    const invite = await post(
      `/api/v1/properties/${p.property_id}/invitations`,
      { email: "x@example.com", role: "owner" },
      as(owner),
    );
    expect(invite.status).toBe(201);
  });
});

describe("API keys with roles", () => {
  it("a viewer key reads but cannot write; no key can hand out access", async () => {
    const p = await createProperty({ property_id: "UA-TEAM-5" });
    const issued = await post(`/api/v1/properties/${p.property_id}/keys`, { label: "ci", role: "viewer" });
    const { api_key, role } = await issued.json<{ api_key: string; role: string }>();
    expect(role).toBe("viewer");
    const key = { Authorization: `Bearer ${api_key}` };
    expect((await call(`/api/v1/properties/${p.property_id}/goals`, { headers: key })).status).toBe(200);
    expect((await post(`/api/v1/properties/${p.property_id}/goals`, { name: "G", event_name: "g" }, key)).status).toBe(
      403,
    );
    const adminKey = { Authorization: `Bearer ${p.api_key}` };
    expect((await post(`/api/v1/properties/${p.property_id}/keys`, { label: "more" }, adminKey)).status).toBe(403);
    expect((await post(`/api/v1/properties/${p.property_id}/shares`, {}, adminKey)).status).toBe(403);
  });
});

describe("shared links and public dashboards", () => {
  it("a link reads reports without an account, only reads, and stops when revoked", async () => {
    const p = await createProperty({ property_id: "UA-SHARE-1" });
    const created = await post(`/api/v1/properties/${p.property_id}/shares`, { label: "client" });
    expect(created.status).toBe(201);
    const { token, url, share } = await created.json<{ token: string; url: string; share: { share_id: string } }>();
    expect(url).toBe(`http://tally.test/share/UA-SHARE-1#${token}`);
    const link = { Authorization: `Bearer ${token}` };
    expect(await (await call(`/api/v1/share/${p.property_id}`, { headers: link })).json()).toMatchObject({
      mode: "share",
      password_required: false,
    });
    expect((await post("/api/v1/query", { property_id: p.property_id, metrics: ["visitors"] }, link)).status).toBe(200);
    expect(
      (await post(`/api/v1/properties/${p.property_id}/annotations`, { date: "2026-11-01", text: "x" }, link)).status,
    ).toBe(403);
    const revoke = await call(`/api/v1/properties/${p.property_id}/shares/${share.share_id}`, {
      method: "DELETE",
      headers: ADMIN,
    });
    expect(revoke.status).toBe(200);
    const after = await post("/api/v1/query", { property_id: p.property_id, metrics: ["visitors"] }, link);
    expect(after.status).toBe(401);
    expect((await envelope(after)).error.code).toBe("share_invalid");
  });

  it("a password link opens only once unlocked; an expired link does not open", async () => {
    const p = await createProperty({ property_id: "UA-SHARE-2" });
    const { token } = await (
      await post(`/api/v1/properties/${p.property_id}/shares`, { password: "open sesame" })
    ).json<{ token: string }>();
    const locked = await post(
      "/api/v1/query",
      { property_id: p.property_id, metrics: ["visitors"] },
      { Authorization: `Bearer ${token}` },
    );
    expect((await envelope(locked)).error.code).toBe("share_locked");
    const info = await call(`/api/v1/share/${p.property_id}`, { headers: { Authorization: `Bearer ${token}` } });
    expect(await info.json()).toMatchObject({ password_required: true });
    expect(
      (await post("/api/v1/shares/unlock", { property_id: p.property_id, token, password: "nope nope" }, {})).status,
    ).toBe(401);
    const unlocked = await post(
      "/api/v1/shares/unlock",
      { property_id: p.property_id, token, password: "open sesame" },
      {},
    );
    const { token: session } = await unlocked.json<{ token: string }>();
    expect(session).toMatch(/^shu_/);
    expect(
      (
        await post(
          "/api/v1/query",
          { property_id: p.property_id, metrics: ["visitors"] },
          { Authorization: `Bearer ${session}` },
        )
      ).status,
    ).toBe(200);
    const past = await post(`/api/v1/properties/${p.property_id}/shares`, { expires_at: "2020-01-01T00:00:00Z" });
    expect(past.status).toBe(400);
  });

  it("the public switch opens read-only access without any credential, and closing it stops it", async () => {
    const p = await createProperty({ property_id: "UA-PUBLIC-1" });
    const ask = () => post("/api/v1/query", { property_id: p.property_id, metrics: ["visitors"] }, {});
    expect((await ask()).status).toBe(401);
    const open = await call(`/api/v1/properties/${p.property_id}`, {
      method: "PATCH",
      headers: { ...ADMIN, ...JSON_HEADERS },
      body: JSON.stringify({ public_dashboard: true, embed_origins: ["https://blog.example.com/path"] }),
    });
    expect(await open.json()).toMatchObject({ public_dashboard: true, embed_origins: ["https://blog.example.com"] });
    expect((await ask()).status).toBe(200);
    expect(
      (await post(`/api/v1/properties/${p.property_id}/annotations`, { date: "2026-11-01", text: "x" }, {})).status,
    ).toBe(403);
    const page = await call(`/share/${p.property_id}`);
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors https://blog.example.com");
    await call(`/api/v1/properties/${p.property_id}`, {
      method: "PATCH",
      headers: { ...ADMIN, ...JSON_HEADERS },
      body: JSON.stringify({ public_dashboard: false }),
    });
    expect((await ask()).status).toBe(401);
  });
});

describe("saved items, annotations, audit", () => {
  it("keeps saved reports and segments with their owner and last change, visible to the team", async () => {
    const p = await createProperty({ property_id: "UA-SAVED-1" });
    const editor = await join(p.property_id, "ed@example.com", "editor");
    const viewer = await join(p.property_id, "vi@example.com", "viewer");
    const base = `/api/v1/properties/${p.property_id}/saved`;
    const made = await post(
      base,
      { kind: "segment", name: "Mobile", definition: { filters: [["is", "visit:device", ["mobile"]]] } },
      as(editor),
    );
    expect(made.status).toBe(201);
    const { item } = await made.json<{ item: { id: string; owner: string } }>();
    expect(item.owner).toBe("ed@example.com");
    const listed = await (await call(`${base}?kind=segment`, { headers: as(viewer) })).json<{
      items: { definition: unknown }[];
    }>();
    expect(listed.items[0]?.definition).toEqual({ filters: [["is", "visit:device", ["mobile"]]] });
    expect((await post(base, { kind: "report", name: "x", definition: {} }, as(viewer))).status).toBe(403);
    const changed = await call(`${base}/${item.id}`, {
      method: "PUT",
      headers: { ...ADMIN, ...JSON_HEADERS },
      body: JSON.stringify({ kind: "segment", name: "Mobile visitors", definition: { filters: [] } }),
    });
    expect(await changed.json()).toMatchObject({
      item: { owner: "ed@example.com", updated_by: "admin token", name: "Mobile visitors" },
    });
    expect((await post(base, { kind: "chart", name: "x", definition: {} }, as(editor))).status).toBe(400);
  });

  it("annotations by date range, and the audit log pages newest first", async () => {
    const p = await createProperty({ property_id: "UA-NOTES-1" });
    const base = `/api/v1/properties/${p.property_id}/annotations`;
    for (const date of ["2026-10-01", "2026-11-01", "2026-11-15"])
      expect((await post(base, { date, text: `deploy ${date}` })).status).toBe(201);
    const nov = await (await call(`${base}?from=2026-11-01&to=2026-11-30`, { headers: ADMIN })).json<{
      annotations: { date: string }[];
    }>();
    expect(nov.annotations.map((a) => a.date)).toEqual(["2026-11-01", "2026-11-15"]);
    expect((await post(base, { date: "2026-13-01", text: "x" })).status).toBe(400);
    const page1 = await (await call(`/api/v1/properties/${p.property_id}/audit?limit=2`, { headers: ADMIN })).json<{
      entries: { seq: number; action: string }[];
    }>();
    expect(page1.entries.map((e) => e.action)).toEqual(["annotation_added", "annotation_added"]);
    const before = page1.entries[1]?.seq;
    const page2 = await (
      await call(`/api/v1/properties/${p.property_id}/audit?limit=5&before=${before}`, { headers: ADMIN })
    ).json<{ entries: { seq: number }[] }>();
    expect(page2.entries).toHaveLength(1);
  });
});
