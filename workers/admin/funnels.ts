/**
 * Saved funnels of a property (read them: read; replace the whole list: write), each with its
 * owner and last change, stamped here. The warehouse's daily job counts each one into `conversion_funnels`; the funnel
 * question (`POST /api/v1/funnel`) takes the same steps ad hoc.
 */
import { Hono } from "hono";
import { AppError } from "../../core/errors.ts";
import { SavedFunnelsSchema, stampFunnels } from "../../core/property/funnels.ts";
import { actorOf } from "../../core/team/roles.ts";
import { propertyStub } from "../../platform/properties.ts";
import { principalOf, propertyAccess } from "../auth.ts";
import { parseJson } from "../json.ts";
import { audit } from "../team/shared.ts";

export const funnelRoutes = new Hono<{ Bindings: Env }>();

/** Checks the id and the caller's access; the property itself may still not exist. */
funnelRoutes.use("/api/v1/properties/:id/funnels", propertyAccess("write", "view"));

const notFound = (id: string) => new AppError("property_not_found", 404, `property ${id} does not exist`);

funnelRoutes.get("/api/v1/properties/:id/funnels", async function listFunnels(c) {
  const id = c.req.param("id");
  const stub = propertyStub(c.env, id);
  if (!(await stub.config())) throw notFound(id);
  return c.json({ funnels: await stub.funnels() });
});

funnelRoutes.put("/api/v1/properties/:id/funnels", async function replaceFunnels(c) {
  const id = c.req.param("id");
  const { funnels } = await parseJson(c.req.raw, SavedFunnelsSchema);
  const stub = propertyStub(c.env, id);
  const principal = principalOf(c);
  const stamped = stampFunnels(funnels, await stub.funnels(), actorOf(principal), Date.now());
  const saved = await stub.setFunnels(stamped);
  if (saved === undefined) throw notFound(id);
  await audit(c, id, principal, "funnels_changed", id, { funnels: saved.map((f) => f.id).join(", ") });
  return c.json({ funnels: saved });
});
