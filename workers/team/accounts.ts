/**
 * People's own routes (no property in the path): sign-in and sign-out (one session, or all of
 * them), who am I, and invitations — looked up by their token, accepted into a new or existing
 * account. Sign-in failures count against the address (platform/throttle.ts) and the account
 * (AccountDO's lock); a sign-in is written to the audit of each of the person's properties.
 */
import { Hono } from "hono";
import { getCookie } from "hono/cookie";
import { AppError } from "../../core/errors.ts";
import { AcceptInvitationSchema, SignInSchema } from "../../core/team/schemas.ts";
import { parseSessionCookie, SESSION_COOKIE } from "../../core/team/tokens.ts";
import { propertyStub } from "../../platform/properties.ts";
import { accountById, accountId, accountStub, teamStub } from "../../platform/team.ts";
import { credentialGate } from "../../platform/throttle.ts";
import { sessionPerson } from "../auth.ts";
import { parseJson } from "../json.ts";
import { audit, type Ctx, clearSessionCookie, propertyParam, setSessionCookie } from "./shared.ts";

export const accountRoutes = new Hono<{ Bindings: Env }>();

/** Opens a session for a checked password: the cookie, and the person's Me. */
async function openSession(c: Ctx, email: string, password: string) {
  const gate = await credentialGate(c.env, c.req.raw);
  const account = accountStub(c.env, email);
  const outcome = await account.signIn(password, Date.now());
  if (!outcome.ok && outcome.reason === "locked")
    throw new AppError("too_many_attempts", 429, `too many wrong passwords for ${email}: try again later`, {
      retryAfterSeconds: outcome.retry_after_s,
    });
  if (!outcome.ok)
    throw await gate.fail(new AppError("invalid_credentials", 401, "the email or the password is wrong"));
  setSessionCookie(c, accountId(c.env, email), outcome.token);
  const me = await account.me();
  if (!me) throw new AppError("internal", 500, "the account vanished while signing in");
  c.executionCtx.waitUntil(
    Promise.all(me.properties.map((p) => audit(c, p.property_id, email, "sign_in", email))).catch(() => undefined),
  );
  return me;
}

accountRoutes.post("/api/v1/auth/sign-in", async function signIn(c) {
  const { email, password } = await parseJson(c.req.raw, SignInSchema);
  return c.json(await openSession(c, email, password));
});

accountRoutes.post("/api/v1/auth/sign-out", async function signOut(c) {
  const parsed = parseSessionCookie(getCookie(c, SESSION_COOKIE) ?? "");
  if (parsed) await accountById(c.env, parsed.account_id)?.signOut(parsed.token);
  clearSessionCookie(c);
  return c.body(null, 204);
});

accountRoutes.post("/api/v1/auth/sign-out-everywhere", async function signOutEverywhere(c) {
  const person = await sessionPerson(c);
  if (!person) throw new AppError("unauthorized", 401, "sign in first");
  const account = accountById(c.env, person.account_id);
  await account?.signOutEverywhere();
  const me = await account?.me();
  await Promise.all(
    (me?.properties ?? []).map((p) => audit(c, p.property_id, person.email, "sign_out_everywhere", person.email)),
  );
  clearSessionCookie(c);
  return c.body(null, 204);
});

accountRoutes.get("/api/v1/auth/me", async function me(c) {
  const person = await sessionPerson(c);
  if (!person) throw new AppError("unauthorized", 401, "not signed in");
  const found = await accountById(c.env, person.account_id)?.me();
  if (!found) throw new AppError("unauthorized", 401, "not signed in");
  return c.json(found);
});

accountRoutes.get("/api/v1/invitations/:id/:token", async function lookUpInvitation(c) {
  const id = propertyParam(c);
  const gate = await credentialGate(c.env, c.req.raw);
  const invitation = await teamStub(c.env, id).invitation(c.req.param("token"), Date.now());
  const config = invitation && (await propertyStub(c.env, id).config());
  if (!invitation || !config)
    throw await gate.fail(
      new AppError("invitation_not_found", 404, "this invitation is not valid: used, revoked, expired or unknown"),
    );
  const account_exists = await accountStub(c.env, invitation.email).exists();
  return c.json({
    property_id: id,
    property_name: config.name,
    email: invitation.email,
    role: invitation.role,
    expires_at: invitation.expires_at,
    account_exists,
  });
});

/**
 * Accepting: a new account takes the password given; an existing one must prove it. Only then is the
 * invitation used up and the membership written (TeamDO, the truth; then the account's index).
 */
accountRoutes.post("/api/v1/invitations/accept", async function acceptInvitation(c) {
  const input = await parseJson(c.req.raw, AcceptInvitationSchema);
  const team = teamStub(c.env, input.property_id);
  const now = Date.now();
  const invitation = await team.invitation(input.token, now);
  if (!invitation)
    throw new AppError("invitation_not_found", 404, "this invitation is not valid: used, revoked, expired or unknown");
  if (invitation.email !== input.email)
    throw new AppError("forbidden", 403, `this invitation is for ${invitation.email}, not ${input.email}`);
  const account = accountStub(c.env, input.email);
  await account.create(input.email, input.name ?? input.email.split("@")[0] ?? "", input.password, now);
  const me = await openSession(c, input.email, input.password);
  const member = await team.acceptInvitation(input.token, input.email, Date.now());
  if (!member || member === "wrong_email")
    throw new AppError("invitation_not_found", 404, "this invitation was used or revoked meanwhile");
  await account.setMembership(input.property_id, member.role);
  await audit(c, input.property_id, input.email, "invitation_accepted", input.email, { role: member.role });
  // Read back rather than patched together: the account's own index is what /auth/me will answer.
  return c.json((await account.me()) ?? me);
});
