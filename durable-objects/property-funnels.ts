/**
 * The PropertyDO's saved funnels, under their own storage key "funnels" (as goals are under
 * "goals"), so the collect path's config reads stay small.
 */
import type { SavedFunnel } from "../core/property/funnels.ts";

/** The saved funnels, in the order they were given ([] for none). */
export async function readFunnels(storage: DurableObjectStorage): Promise<SavedFunnel[]> {
  return (await storage.get<SavedFunnel[]>("funnels")) ?? [];
}

/** Replaces the whole list (validated by the route: core/property/funnels.ts). */
export async function writeFunnels(storage: DurableObjectStorage, funnels: SavedFunnel[]): Promise<SavedFunnel[]> {
  await storage.put("funnels", funnels);
  return funnels;
}
