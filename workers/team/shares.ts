/**
 * Shared links and public dashboards. A link (`/share/<id>#<token>`: the token stays in the
 * fragment, out of logs and Referer) gives read-only access until revoked or expired, optionally
 * behind a password; a public property's `/share/<id>` needs nothing. The page is the dashboard's
 * own index.html, served here so that its `frame-ancestors` can come from the property's
 * `embed_origins` (everything else the dashboard serves is never framed: web/dashboard/headers.ts).
 */
import { Hono } from "hono";
import { AppError } from "../../core/errors.ts";
import { actorOf } from "../../core/team/roles.ts";
import { ShareRequestSchema, ShareUnlockSchema } from "../../core/team/schemas.ts";
import { tokenKind } from "../../core/team/tokens.ts";
import { propertyStub } from "../../platform/properties.ts";
import { teamStub } from "../../platform/team.ts";
import { credentialGate } from "../../platform/throttle.ts";
import { bearer, principalOf, propertyAccess, requirePropertyAccess } from "../auth.ts";
import { parseJson } from "../json.ts";
import { audit, existingProperty, propertyParam, publicOrigin } from "./shared.ts";

export const shareRoutes = new Hono<{ Bindings: Env }>();

shareRoutes.use("/api/v1/properties/:id/shares", propertyAccess("people", "people"));
shareRoutes.use("/api/v1/properties/:id/shares/*", propertyAccess("people", "people"));

shareRoutes.get("/api/v1/properties/:id/shares", async function listShares(c) {
  const id = propertyParam(c);
  await existingProperty(c.env, id);
  return c.json({ shares: await teamStub(c.env, id).shares() });
});

shareRoutes.post("/api/v1/properties/:id/shares", async function createShare(c) {
  const id = propertyParam(c);
  const input = await parseJson(c.req.raw, ShareRequestSchema);
  const now = Date.now();
  if (input.expires_at && Date.parse(input.expires_at) <= now)
    throw new AppError("invalid_request", 400, "expires_at: must be in the future");
  await existingProperty(c.env, id);
  const principal = principalOf(c);
  const created = await teamStub(c.env, id).createShare(input, actorOf(principal), now);
  if (created === "full")
    throw new AppError("limit_reached", 409, "this property has the most shared links it may have (100)");
  await audit(c, id, principal, "share_created", created.share.share_id, {
    label: created.share.label,
    has_password: created.share.has_password,
    expires_at: created.share.expires_at,
  });
  const url = `${publicOrigin(c)}/share/${encodeURIComponent(id)}#${created.token}`;
  return c.json({ share: created.share, token: created.token, url }, 201);
});

shareRoutes.delete("/api/v1/properties/:id/shares/:shareId", async function revokeShare(c) {
  const id = propertyParam(c);
  const revoked = await teamStub(c.env, id).revokeShare(c.req.param("shareId"), Date.now());
  if (!revoked) throw new AppError("share_not_found", 404, `shared link ${c.req.param("shareId")} is not active`);
  await audit(c, id, principalOf(c), "share_revoked", revoked.share_id, { label: revoked.label });
  return c.json({ revoked: true });
});

/** What a shared-link page needs before it asks for reports: the property, and whether a password is due. */
shareRoutes.get("/api/v1/share/:id", async function shareInfo(c) {
  const id = propertyParam(c);
  const token = bearer(c);
  let password_required = false;
  if (token && tokenKind(token) === "shr") {
    const found = await teamStub(c.env, id).verifyShare(token, Date.now());
    if (found === "locked") password_required = true;
    else await requirePropertyAccess(c, id, "view");
  } else await requirePropertyAccess(c, id, "view");
  const config = await existingProperty(c.env, id);
  return c.json({
    property_id: id,
    name: config.name,
    timezone: config.timezone,
    mode: token ? "share" : "public",
    password_required,
  });
});

shareRoutes.post("/api/v1/shares/unlock", async function unlockShare(c) {
  const input = await parseJson(c.req.raw, ShareUnlockSchema);
  const gate = await credentialGate(c.env, c.req.raw);
  const unlocked = await teamStub(c.env, input.property_id).unlockShare(input.token, input.password, Date.now());
  if (unlocked === "wrong_password")
    throw await gate.fail(new AppError("invalid_credentials", 401, "the password of this shared link is wrong"));
  if (!unlocked)
    throw await gate.fail(
      new AppError("share_invalid", 401, "this shared link is not valid: revoked, expired or unknown"),
    );
  return c.json(unlocked);
});

/** The page itself: the dashboard, framable only by the property's embed origins. */
async function sharePage(c: Parameters<typeof audit>[0]): Promise<Response> {
  const id = propertyParam(c);
  const config = await propertyStub(c.env, id).config();
  const page = await c.env.ASSETS.fetch(new Request(new URL("/", c.req.url)));
  const headers = new Headers(page.headers);
  const origins = config?.embed_origins ?? [];
  const csp = headers.get("content-security-policy") ?? "";
  const ancestors = origins.length > 0 ? `frame-ancestors ${origins.join(" ")}` : "frame-ancestors 'none'";
  headers.set(
    "content-security-policy",
    csp.includes("frame-ancestors")
      ? csp.replace(/frame-ancestors [^;]*/, ancestors)
      : [csp, ancestors].filter(Boolean).join("; "),
  );
  if (origins.length > 0) headers.delete("x-frame-options");
  else headers.set("x-frame-options", "DENY");
  headers.set("cache-control", "no-store");
  return new Response(page.body, { status: page.status, headers });
}

shareRoutes.get("/share/:id", sharePage);
shareRoutes.get("/share/:id/*", sharePage);
