/**
 * What a team keeps for each other: saved reports and segments (with their owner and last change)
 * and annotations (a note on a date, drawn on every time chart). Everyone who reads may see them;
 * `write` changes them; each change is in the audit log.
 */
import { Hono } from "hono";
import { z } from "zod";
import { AppError } from "../../core/errors.ts";
import { actorOf } from "../../core/team/roles.ts";
import {
  AnnotationRequestSchema,
  SAVED_KINDS,
  type SavedItem,
  type SavedItemRequest,
  SavedItemRequestSchema,
  type StoredSavedItem,
} from "../../core/team/schemas.ts";
import { teamStub } from "../../platform/team.ts";
import { principalOf, propertyAccess } from "../auth.ts";
import { parseJson } from "../json.ts";
import { audit, existingProperty, jsonAnswer, propertyParam } from "./shared.ts";

export const noteRoutes = new Hono<{ Bindings: Env }>();

for (const path of ["saved", "saved/*", "annotations", "annotations/*"])
  noteRoutes.use(`/api/v1/properties/:id/${path}`, propertyAccess("write", "view"));

function queryOf<S extends z.ZodType>(schema: S, query: Record<string, string>): z.infer<S> {
  const parsed = schema.safeParse(query);
  if (!parsed.success)
    throw new AppError(
      "invalid_request",
      400,
      parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    );
  return parsed.data;
}

/** The actor keeps a definition as JSON text; the API speaks it as JSON. */
const asItem = (item: StoredSavedItem): SavedItem => ({ ...item, definition: JSON.parse(item.definition) });
const toStored = (input: SavedItemRequest) => ({ ...input, definition: JSON.stringify(input.definition) });

noteRoutes.get("/api/v1/properties/:id/saved", async function listSaved(c) {
  const id = propertyParam(c);
  const { kind } = queryOf(z.object({ kind: z.enum(SAVED_KINDS).optional() }), c.req.query());
  await existingProperty(c.env, id);
  return jsonAnswer({ items: (await teamStub(c.env, id).saved(kind)).map(asItem) });
});

noteRoutes.post("/api/v1/properties/:id/saved", async function addSaved(c) {
  const id = propertyParam(c);
  const input = await parseJson(c.req.raw, SavedItemRequestSchema);
  await existingProperty(c.env, id);
  const principal = principalOf(c);
  const item = await teamStub(c.env, id).addSaved(toStored(input), actorOf(principal), Date.now());
  if (item === "full")
    throw new AppError("limit_reached", 409, "this property has the most saved items it may have (500)");
  await audit(c, id, principal, `${item.kind}_saved`, item.id, { name: item.name });
  return jsonAnswer({ item: asItem(item) }, 201);
});

noteRoutes.put("/api/v1/properties/:id/saved/:itemId", async function updateSaved(c) {
  const id = propertyParam(c);
  const input = await parseJson(c.req.raw, SavedItemRequestSchema);
  const principal = principalOf(c);
  const item = await teamStub(c.env, id).updateSaved(
    c.req.param("itemId"),
    toStored(input),
    actorOf(principal),
    Date.now(),
  );
  if (!item) throw new AppError("saved_not_found", 404, `saved item ${c.req.param("itemId")} does not exist`);
  await audit(c, id, principal, `${item.kind}_changed`, item.id, { name: item.name });
  return jsonAnswer({ item: asItem(item) });
});

noteRoutes.delete("/api/v1/properties/:id/saved/:itemId", async function deleteSaved(c) {
  const id = propertyParam(c);
  const item = await teamStub(c.env, id).deleteSaved(c.req.param("itemId"));
  if (!item) throw new AppError("saved_not_found", 404, `saved item ${c.req.param("itemId")} does not exist`);
  await audit(c, id, principalOf(c), `${item.kind}_deleted`, item.id, { name: item.name });
  return c.json({ deleted: true });
});

const RangeSchema = z.object({
  from: z.iso.date("must be a date, YYYY-MM-DD").optional(),
  to: z.iso.date("must be a date, YYYY-MM-DD").optional(),
});

noteRoutes.get("/api/v1/properties/:id/annotations", async function listAnnotations(c) {
  const id = propertyParam(c);
  const { from, to } = queryOf(RangeSchema, c.req.query());
  await existingProperty(c.env, id);
  return c.json({ annotations: await teamStub(c.env, id).annotations(from, to) });
});

noteRoutes.post("/api/v1/properties/:id/annotations", async function addAnnotation(c) {
  const id = propertyParam(c);
  const input = await parseJson(c.req.raw, AnnotationRequestSchema);
  await existingProperty(c.env, id);
  const principal = principalOf(c);
  const annotation = await teamStub(c.env, id).addAnnotation(input, actorOf(principal), Date.now());
  if (annotation === "full")
    throw new AppError("limit_reached", 409, "this property has the most annotations it may have (2,000)");
  await audit(c, id, principal, "annotation_added", annotation.id, { date: annotation.date });
  return c.json({ annotation }, 201);
});

noteRoutes.delete("/api/v1/properties/:id/annotations/:annotationId", async function deleteAnnotation(c) {
  const id = propertyParam(c);
  const note = await teamStub(c.env, id).deleteAnnotation(c.req.param("annotationId"));
  if (!note)
    throw new AppError("annotation_not_found", 404, `annotation ${c.req.param("annotationId")} does not exist`);
  await audit(c, id, principalOf(c), "annotation_deleted", note.id, { date: note.date });
  return c.json({ deleted: true });
});
