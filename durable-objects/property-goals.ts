/**
 * The PropertyDO's goals, under their own storage key "goals" rather than inside "config", so the
 * collect path's config reads stay small.
 */
import { type Goal, goalKey, MAX_GOALS } from "../core/property/goals.ts";

/** The goals, oldest first ([] for none). */
export async function readGoals(storage: DurableObjectStorage): Promise<Goal[]> {
  return (await storage.get<Goal[]>("goals")) ?? [];
}

/** Adds a goal; "exists" when the name is taken (any case), "full" at MAX_GOALS. */
export async function addGoal(storage: DurableObjectStorage, goal: Goal): Promise<Goal[] | "exists" | "full"> {
  const goals = await readGoals(storage);
  if (goals.some((g) => goalKey(g.name) === goalKey(goal.name))) return "exists";
  if (goals.length >= MAX_GOALS) return "full";
  goals.push(goal);
  await storage.put("goals", goals);
  return goals;
}

/** Deletes the goal of that name (any case); false when there is none. */
export async function deleteGoal(storage: DurableObjectStorage, name: string): Promise<boolean> {
  const goals = await readGoals(storage);
  const kept = goals.filter((g) => goalKey(g.name) !== goalKey(name));
  if (kept.length === goals.length) return false;
  await storage.put("goals", kept);
  return true;
}
