/**
 * Goals of a property (admin token or the property's API key): list, add, delete. A goal is a page
 * path pattern or an event name; the query API reports a conversion rate per goal.
 */
import { Hono } from "hono";
import { AppError } from "../../core/errors.ts";
import { CreateGoalSchema, MAX_GOALS } from "../../core/property/goals.ts";
import { propertyStub } from "../../platform/properties.ts";
import { propertyAccess } from "../auth.ts";
import { parseJson } from "../json.ts";

export const goalRoutes = new Hono<{ Bindings: Env }>();

goalRoutes.use("/api/v1/properties/:id/goals/*", propertyAccess("write", "view"));

function notFound(id: string): AppError {
  return new AppError("property_not_found", 404, `property ${id} does not exist`);
}

goalRoutes.get("/api/v1/properties/:id/goals", async function listGoals(c) {
  const id = c.req.param("id");
  const stub = propertyStub(c.env, id);
  if (!(await stub.config())) throw notFound(id);
  return c.json({ goals: await stub.goals() });
});

goalRoutes.post("/api/v1/properties/:id/goals", async function addGoal(c) {
  const id = c.req.param("id");
  const goal = await parseJson(c.req.raw, CreateGoalSchema);
  const result = await propertyStub(c.env, id).addGoal(goal);
  if (result === undefined) throw notFound(id);
  if (result === "exists") throw new AppError("goal_exists", 409, `name: a goal named "${goal.name}" already exists`);
  if (result === "full") throw new AppError("goal_limit", 409, `goals: a property has at most ${MAX_GOALS} goals`);
  return c.json({ goals: result }, 201);
});

goalRoutes.delete("/api/v1/properties/:id/goals/:name", async function deleteGoal(c) {
  const id = c.req.param("id");
  const name = c.req.param("name");
  const stub = propertyStub(c.env, id);
  if (!(await stub.config())) throw notFound(id);
  if (!(await stub.deleteGoal(name))) throw new AppError("goal_not_found", 404, `goal "${name}" does not exist`);
  return c.body(null, 204);
});
