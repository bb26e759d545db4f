/**
 * Saved funnels: a property's named step sequences (the funnel question's step shape,
 * core/query/funnel.ts), kept by the PropertyDO beside its goals. The daily funnels job
 * (consumers/warehouse-aggregates.ts) counts each one into the warehouse's `conversion_funnels`.
 * The whole list is replaced at once (`PUT /api/v1/properties/:id/funnels`).
 */
import { z } from "zod";
import { CONTROL_CHARS } from "../event.ts";
import { FunnelStepSchema } from "../query/funnel.ts";

export const MAX_SAVED_FUNNELS = 20;

const readable = (s: string) => s.isWellFormed() && !CONTROL_CHARS.test(s);

export const SavedFunnelSchema = z.strictObject({
  /** Stable key of the funnel's rows in `conversion_funnels`: renaming keeps its history. */
  id: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9_-]{0,63}$/,
      "must be 1-64 lowercase letters, digits, - or _, starting with a letter or digit",
    ),
  name: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(120, "must be at most 120 characters")
    .refine(readable, "must be valid Unicode without control characters"),
  steps: z.array(FunnelStepSchema).min(2, "must have at least 2 steps").max(8, "must have at most 8 steps"),
  /** Who made it, who changed it last and when: set by the server (sent back, they are ignored). */
  owner: z.string().max(254).optional(),
  updated_by: z.string().max(254).optional(),
  updated_at: z.number().int().optional(),
});
export type SavedFunnel = z.infer<typeof SavedFunnelSchema>;

/** `PUT /api/v1/properties/:id/funnels` body: the complete list, ids unique. */
export const SavedFunnelsSchema = z.strictObject({
  funnels: z
    .array(SavedFunnelSchema)
    .max(MAX_SAVED_FUNNELS, `must have at most ${MAX_SAVED_FUNNELS} funnels`)
    .superRefine((funnels, ctx) => {
      const seen = new Set<string>();
      funnels.forEach((f, i) => {
        if (seen.has(f.id)) ctx.addIssue({ code: "custom", path: [i, "id"], message: `duplicate funnel id "${f.id}"` });
        seen.add(f.id);
      });
    }),
});
export type SavedFunnels = z.infer<typeof SavedFunnelsSchema>;

/**
 * The list to store: each funnel keeps its owner and last change unless its name or steps changed;
 * a new one is `by`'s; a changed one records `by` and `now`. Funnels stored before #21 have no owner.
 */
export function stampFunnels(next: SavedFunnel[], before: SavedFunnel[], by: string, now: number): SavedFunnel[] {
  const previous = new Map(before.map((f) => [f.id, f]));
  return next.map(({ owner: _o, updated_by: _b, updated_at: _a, ...funnel }) => {
    const prev = previous.get(funnel.id);
    const same = prev && prev.name === funnel.name && JSON.stringify(prev.steps) === JSON.stringify(funnel.steps);
    if (prev && same) return { ...funnel, ...pick(prev) };
    return { ...funnel, owner: prev ? (prev.owner ?? by) : by, updated_by: by, updated_at: now };
  });
}

function pick(f: SavedFunnel): Pick<SavedFunnel, "owner" | "updated_by" | "updated_at"> {
  return {
    ...(f.owner !== undefined ? { owner: f.owner } : {}),
    ...(f.updated_by !== undefined ? { updated_by: f.updated_by } : {}),
    ...(f.updated_at !== undefined ? { updated_at: f.updated_at } : {}),
  };
}

/** A step's name in reports: its label, else its value (as the funnel question shapes it). */
export const stepName = (step: SavedFunnel["steps"][number]) => step.label ?? step.value;
