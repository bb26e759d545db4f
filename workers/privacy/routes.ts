/**
 * GDPR routes of a property (its API key or the admin token): erase a visitor (202, the work runs
 * in the property's ErasureDO), follow an erasure, read the audit, export a visitor's events as
 * NDJSON. A visitor is the `client_id` or `user_id` the site sent, percent-encoded in the path.
 */
import { type Context, Hono } from "hono";
import { AppError } from "../../core/errors.ts";
import { ErasureIdSchema, MAX_QUEUED_ERASURES, VisitorSchema } from "../../core/privacy/erasure.ts";
import { propertyStub } from "../../platform/properties.ts";
import { principalOf, propertyAccess } from "../auth.ts";
import { audit } from "../team/shared.ts";
import { exportVisitor } from "./export.ts";

type Env_ = { Bindings: Env };
export const privacyRoutes = new Hono<Env_>();

/** Who asked, for the erasure's audit: an API key by its id, a person by email; else the admin. */
function requestedBy(c: Context<Env_>): string {
  const principal = principalOf(c);
  if (principal.kind === "key") return `key:${principal.key_id}`;
  return principal.kind === "account" ? principal.email : "admin";
}
privacyRoutes.use("/api/v1/properties/:id/visitors/*", propertyAccess("manage", "manage"));
privacyRoutes.use("/api/v1/properties/:id/erasures", propertyAccess("manage", "manage"));
privacyRoutes.use("/api/v1/properties/:id/erasures/*", propertyAccess("manage", "manage"));

/** The visitor path segment, validated: 400 saying what is wrong with it. */
function visitorParam(c: Context<Env_>): string {
  const parsed = VisitorSchema.safeParse(c.req.param("visitor"));
  if (!parsed.success)
    throw new AppError("invalid_request", 400, `visitor: ${parsed.error.issues[0]?.message ?? "is not valid"}`);
  return parsed.data;
}

async function requireProperty(env: Env, id: string): Promise<void> {
  if (!(await propertyStub(env, id).config()))
    throw new AppError("property_not_found", 404, `property ${id} does not exist`);
}

privacyRoutes.delete("/api/v1/properties/:id/visitors/:visitor", async function eraseVisitor(c) {
  const id = c.req.param("id");
  const visitor = visitorParam(c);
  await requireProperty(c.env, id);
  const erasures = c.env.ERASURE_DO.getByName(id);
  if ((await erasures.queued()) >= MAX_QUEUED_ERASURES)
    throw new AppError(
      "too_many_erasures",
      429,
      `property ${id} has ${MAX_QUEUED_ERASURES} erasures waiting; try again later`,
      {
        retryAfterSeconds: 60,
      },
    );
  const status = await erasures.start({
    property_id: id,
    scope: "visitor",
    visitor,
    requested_by: requestedBy(c),
    requested_at: Date.now(),
  });
  const statusUrl = `/api/v1/properties/${id}/erasures/${status.erasure_id}`;
  // The team's audit names the erasure, never the visitor (an id of a person).
  await audit(c, id, principalOf(c), "erasure_requested", status.erasure_id);
  c.header("Location", statusUrl);
  return c.json({ erasure_id: status.erasure_id, status_url: statusUrl, status }, 202);
});

privacyRoutes.get("/api/v1/properties/:id/erasures/:erasure", async function erasureStatus(c) {
  const id = c.req.param("id");
  const erasure = ErasureIdSchema.safeParse(c.req.param("erasure"));
  if (!erasure.success) throw new AppError("invalid_request", 400, `erasure_id: ${erasure.error.issues[0]?.message}`);
  const status = await c.env.ERASURE_DO.getByName(id).status(erasure.data);
  if (!status)
    throw new AppError("erasure_not_found", 404, `erasure ${erasure.data} does not exist for property ${id}`);
  return c.json(status);
});

privacyRoutes.get("/api/v1/properties/:id/erasures", async function erasureAudit(c) {
  return c.json({ erasures: await c.env.ERASURE_DO.getByName(c.req.param("id")).audit() });
});

privacyRoutes.get("/api/v1/properties/:id/visitors/:visitor/export", async function exportEvents(c) {
  const id = c.req.param("id");
  const visitor = visitorParam(c);
  await requireProperty(c.env, id);
  await audit(c, id, principalOf(c), "visitor_exported", "a visitor");
  return new Response(exportVisitor(c.env, id, visitor), {
    headers: {
      "Content-Type": "application/x-ndjson; charset=utf-8",
      "Content-Disposition": `attachment; filename="${id}-visitor-export.ndjson"`,
      "Cache-Control": "no-store",
    },
  });
});
