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

/** A step's name in reports: its label, else its value (as the funnel question shapes it). */
export const stepName = (step: SavedFunnel["steps"][number]) => step.label ?? step.value;
