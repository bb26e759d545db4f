/**
 * A property's people: what the caller may do here (`/access`, for the dashboard), members and
 * their roles, invitations, and the audit log. Only `people` hands out access, only owners make or
 * unmake owners, and the last owner stays (409 last_owner).
 */
import { Hono } from "hono";
import { z } from "zod";
import { AppError } from "../../core/errors.ts";
import { actorOf, capabilitiesOf, mayGrant, type Principal, type Role } from "../../core/team/roles.ts";
import { EmailSchema, InvitationRequestSchema, MemberPatchSchema } from "../../core/team/schemas.ts";
import { accountStub, teamStub } from "../../platform/team.ts";
import { principalOf, propertyAccess, requirePropertyAccess } from "../auth.ts";
import { parseJson } from "../json.ts";
import { audit, existingProperty, propertyParam, publicOrigin } from "./shared.ts";

export const memberRoutes = new Hono<{ Bindings: Env }>();

memberRoutes.use("/api/v1/properties/:id/members", propertyAccess("people", "people"));
memberRoutes.use("/api/v1/properties/:id/invitations", propertyAccess("people", "people"));
memberRoutes.use("/api/v1/properties/:id/invitations/*", propertyAccess("people", "people"));
memberRoutes.use("/api/v1/properties/:id/audit", propertyAccess("manage", "manage"));

const roleOf = (p: Principal): Role | null => (p.kind === "account" || p.kind === "key" ? p.role : null);

memberRoutes.get("/api/v1/properties/:id/access", async function access(c) {
  const id = propertyParam(c);
  const principal = await requirePropertyAccess(c, id, "view");
  const config = await existingProperty(c.env, id);
  return c.json({
    principal: principal.kind,
    role: roleOf(principal),
    ...(principal.kind === "account" ? { email: principal.email } : {}),
    capabilities: [...capabilitiesOf(principal)],
    property: {
      property_id: id,
      name: config.name,
      timezone: config.timezone,
      public_dashboard: config.public_dashboard ?? false,
      embed_origins: config.embed_origins ?? [],
    },
  });
});

memberRoutes.get("/api/v1/properties/:id/members", async function listMembers(c) {
  const id = propertyParam(c);
  await existingProperty(c.env, id);
  return c.json(await teamStub(c.env, id).members(Date.now()));
});

function refuseGrant(principal: Principal, role: Role): void {
  if (!mayGrant(principal, role))
    throw new AppError("forbidden", 403, `only an owner may grant or change the ${role} role`);
}

memberRoutes.post("/api/v1/properties/:id/invitations", async function inviteMember(c) {
  const id = propertyParam(c);
  const principal = principalOf(c);
  const { email, role } = await parseJson(c.req.raw, InvitationRequestSchema);
  refuseGrant(principal, role);
  await existingProperty(c.env, id);
  const result = await teamStub(c.env, id).invite(email, role, actorOf(principal), Date.now());
  if (result === "member")
    throw new AppError("already_member", 409, `${email} is already a member: change their role instead`);
  if (result === "full")
    throw new AppError("limit_reached", 409, "this property has the most members it may have (500)");
  await audit(c, id, principal, "member_invited", email, { role });
  const url = `${publicOrigin(c)}/invite/${encodeURIComponent(id)}#${result.token}`;
  return c.json({ invitation: result.invitation, url }, 201);
});

memberRoutes.delete("/api/v1/properties/:id/invitations/:invitationId", async function revokeInvitation(c) {
  const id = propertyParam(c);
  const revoked = await teamStub(c.env, id).revokeInvitation(c.req.param("invitationId"));
  if (!revoked)
    throw new AppError("invitation_not_found", 404, `invitation ${c.req.param("invitationId")} is not pending`);
  await audit(c, id, principalOf(c), "invitation_revoked", revoked.email, { role: revoked.role });
  return c.json({ revoked: true });
});

function emailParam(value: string): string {
  // Hono has decoded the path already; decoding again would throw on a stray "%".
  const parsed = EmailSchema.safeParse(value);
  if (!parsed.success) throw new AppError("invalid_request", 400, "email: must be an email address");
  return parsed.data;
}

/** Writes a role change where it counts (the TeamDO), then the person's own index, then the audit. */
async function changeRole(
  c: Parameters<typeof audit>[0],
  id: string,
  email: string,
  role: Role | null,
): Promise<Response> {
  const principal = principalOf(c);
  const team = teamStub(c.env, id);
  const current = await team.role(email);
  if (!current) throw new AppError("member_not_found", 404, `${email} is not a member of ${id}`);
  if (current === "owner" || role === "owner") refuseGrant(principal, "owner");
  const result = await team.setRole(email, role);
  if (result === "not_member") throw new AppError("member_not_found", 404, `${email} is not a member of ${id}`);
  if (result === "last_owner")
    throw new AppError("last_owner", 409, `${email} is the last owner: make someone else owner first`);
  await accountStub(c.env, email).setMembership(id, role);
  await audit(c, id, principal, role ? "role_changed" : "member_removed", email, { from: current, to: role });
  return c.json(role ? { email, role } : { removed: true });
}

memberRoutes.patch("/api/v1/properties/:id/members/:email", async function changeMember(c) {
  const id = propertyParam(c);
  await requirePropertyAccess(c, id, "people");
  const { role } = await parseJson(c.req.raw, MemberPatchSchema);
  return changeRole(c, id, emailParam(c.req.param("email")), role);
});

/** People with `people` remove anyone (owners only by owners); anyone may leave. */
memberRoutes.delete("/api/v1/properties/:id/members/:email", async function removeMember(c) {
  const id = propertyParam(c);
  const email = emailParam(c.req.param("email"));
  const self = await requirePropertyAccess(c, id, "view");
  if (!(self.kind === "account" && self.email === email)) await requirePropertyAccess(c, id, "people");
  return changeRole(c, id, email, null);
});

const AuditQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.coerce.number().int().min(1).optional(),
  action: z
    .string()
    .regex(/^[a-z_]{1,40}$/)
    .optional(),
});

memberRoutes.get("/api/v1/properties/:id/audit", async function auditLog(c) {
  const id = propertyParam(c);
  const parsed = AuditQuerySchema.safeParse(c.req.query());
  if (!parsed.success)
    throw new AppError(
      "invalid_request",
      400,
      parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    );
  const { limit, before, action } = parsed.data;
  return c.json({ entries: await teamStub(c.env, id).auditLog(limit, before, action) });
});
