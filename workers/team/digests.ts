/**
 * Scheduled reports (README "People, keys and sharing"): a property's weekly or monthly digest to
 * an email address or a Slack-compatible webhook. Listing, adding, removing and "send now" need
 * `write` (the targets are addresses and webhook secrets); the unsubscribe link in every email needs
 * nothing but its signature (core/digest/unsubscribe.ts), and takes a one-click POST (RFC 8058).
 * The hourly Cron sends the due ones (consumers/digests.ts); both send through platform/digests.ts.
 */
import { Hono } from "hono";
import { lastCompletePeriod } from "../../core/digest/period.ts";
import { escapeHtml } from "../../core/digest/render.ts";
import { unsubscribeKey, verifyUnsubscribe } from "../../core/digest/unsubscribe.ts";
import { AppError } from "../../core/errors.ts";
import { PROPERTY_ID_PATTERN } from "../../core/event.ts";
import { actorOf } from "../../core/team/roles.ts";
import { type Digest, DigestRequestSchema } from "../../core/team/schemas.ts";
import { loadConfig } from "../../platform/config.ts";
import { deliverDigest } from "../../platform/digests.ts";
import { teamStub } from "../../platform/team.ts";
import { principalOf, propertyAccess } from "../auth.ts";
import { parseJson } from "../json.ts";
import { runQuery } from "../query/run.ts";
import { audit, type Ctx, existingProperty, propertyParam, publicOrigin } from "./shared.ts";

export const digestRoutes = new Hono<{ Bindings: Env }>();

digestRoutes.use("/api/v1/properties/:id/digests", propertyAccess("write", "write"));
digestRoutes.use("/api/v1/properties/:id/digests/*", propertyAccess("write", "write"));

const DIGEST_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_DIGESTS = 20;

async function findDigest(env: Env, propertyId: string, digestId: string): Promise<Digest> {
  const digest = DIGEST_ID.test(digestId)
    ? (await teamStub(env, propertyId).digests()).find((d) => d.id === digestId)
    : undefined;
  if (!digest) throw new AppError("digest_not_found", 404, `digest ${digestId} does not exist`);
  return digest;
}

digestRoutes.get("/api/v1/properties/:id/digests", async function listDigests(c) {
  const id = propertyParam(c);
  await existingProperty(c.env, id);
  return c.json({ digests: await teamStub(c.env, id).digests() });
});

digestRoutes.post("/api/v1/properties/:id/digests", async function addDigest(c) {
  const id = propertyParam(c);
  const input = await parseJson(c.req.raw, DigestRequestSchema);
  if (input.channel === "email" && !loadConfig(c.env).SMTP_URL)
    throw new AppError(
      "smtp_not_configured",
      409,
      "channel: email digests need an SMTP transport, and this deployment has none (set the SMTP_URL secret); Slack digests work without one",
    );
  await existingProperty(c.env, id);
  // The actor writes the audit entry (digest_added) in the same call.
  const digest = await teamStub(c.env, id).addDigest(input, actorOf(principalOf(c)), Date.now());
  if (digest === "full")
    throw new AppError("limit_reached", 409, `this property has the most digests it may have (${MAX_DIGESTS})`);
  return c.json({ digest }, 201);
});

digestRoutes.delete("/api/v1/properties/:id/digests/:digestId", async function deleteDigest(c) {
  const id = propertyParam(c);
  const digestId = c.req.param("digestId");
  // The actor writes the audit entry (digest_removed).
  const deleted =
    DIGEST_ID.test(digestId) && (await teamStub(c.env, id).deleteDigest(digestId, actorOf(principalOf(c)), Date.now()));
  if (!deleted) throw new AppError("digest_not_found", 404, `digest ${digestId} does not exist`);
  return c.json({ deleted: true });
});

/** Sends the last complete period now (to check an address), and records it as sent. */
digestRoutes.post("/api/v1/properties/:id/digests/:digestId/send", async function sendNow(c) {
  const id = propertyParam(c);
  const config = await existingProperty(c.env, id);
  const digest = await findDigest(c.env, id, c.req.param("digestId"));
  const now = Date.now();
  const period = lastCompletePeriod(digest.frequency, config.timezone, now);
  const sender = { env: c.env, runQuery, now, origin: publicOrigin(c) };
  const error = await deliverDigest(sender, id, digest, period);
  // SMTP and webhook refusals are 502 delivery_failed; a missing SMTP_URL or PUBLIC_URL keeps its own code.
  if (error) throw error;
  await audit(c, id, principalOf(c), "digest_sent", digest.id, {
    channel: digest.channel,
    frequency: digest.frequency,
    period: period.name,
  });
  return c.json({ sent: true, period: period.name });
});

// ─── the unsubscribe link ────────────────────────────────────────────────────────────────────────

/** The link's property and digest, once its token is checked: 400 for a malformed link, 403 for a forged one. */
async function checkedLink(c: Ctx): Promise<{ propertyId: string; digestId: string }> {
  const propertyId = c.req.query("property_id") ?? "";
  const digestId = c.req.query("digest_id") ?? "";
  const token = c.req.query("token") ?? "";
  if (!PROPERTY_ID_PATTERN.test(propertyId) || !DIGEST_ID.test(digestId) || !token)
    throw new AppError("invalid_request", 400, "property_id, digest_id and token: the unsubscribe link is incomplete");
  const key = await unsubscribeKey(loadConfig(c.env));
  // Checked before any actor is asked: a forged link costs one HMAC, nothing more.
  if (!key || !(await verifyUnsubscribe(key, propertyId, digestId, token)))
    throw new AppError("forbidden", 403, "this unsubscribe link is not valid (it may have been cut short)");
  return { propertyId, digestId };
}

/** A page of its own: the API's CSP forbids forms and styles, so this answer sets a narrower one. */
function page(c: Ctx, title: string, body: string): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;color:#1f2328;line-height:1.5}button{font:inherit;padding:.5rem 1rem;cursor:pointer}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
  return c.html(html, 200, {
    "Content-Security-Policy":
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
  });
}

digestRoutes.get("/api/v1/digests/unsubscribe", async function unsubscribePage(c) {
  const { propertyId, digestId } = await checkedLink(c);
  const digest = (await teamStub(c.env, propertyId).digests()).find((d) => d.id === digestId);
  if (!digest) return page(c, "Already unsubscribed", "<p>This report is no longer sent.</p>");
  // A GET changes nothing (link scanners follow links): the button POSTs to this same URL.
  const what = `the ${escapeHtml(digest.frequency)} report of ${escapeHtml(propertyId)} to ${escapeHtml(digest.target)}`;
  return page(
    c,
    "Unsubscribe",
    `<p>Stop ${what}?</p><form method="post"><button type="submit">Unsubscribe</button></form>`,
  );
});

digestRoutes.post("/api/v1/digests/unsubscribe", async function unsubscribe(c) {
  const { propertyId, digestId } = await checkedLink(c);
  // The actor writes the audit entry (digest_removed, by "unsubscribe link"); gone already is fine.
  await teamStub(c.env, propertyId).deleteDigest(digestId, "unsubscribe link", Date.now());
  return page(c, "Unsubscribed", "<p>This report will not be sent again.</p>");
});
