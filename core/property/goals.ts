/**
 * Goals: per-property conversions, each either a page path pattern (Plausible-style wildcards) or a
 * custom event name. The PropertyDO keeps them; the query layer turns a page goal into an RE2 regex
 * for ClickHouse's `match(page_path, {re:String})`.
 */
import { z } from "zod";
import { CONTROL_CHARS } from "../event.ts";

export const MAX_GOALS = 100;
export const GOAL_KINDS = ["page", "event"] as const;

const readable = (s: string) => s.isWellFormed() && !CONTROL_CHARS.test(s);
const READABLE = "must be valid Unicode without control characters";

const GoalFields = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(120, "must be at most 120 characters")
    .refine(readable, READABLE),
  kind: z.enum(GOAL_KINDS, {
    error: (issue) => (issue.input === undefined ? "is required" : 'must be "page" or "event"'),
  }),
  /** Matched against the stored `page_path` (no query string; `#/route` kept for hash-routing properties). */
  page_path: z
    .string()
    .max(500, "must be at most 500 characters")
    .startsWith("/", 'must start with "/"')
    .refine(readable, READABLE)
    .optional(),
  /** Matched exactly against the event's `event_type`. */
  event_name: z
    .string()
    .min(1, "must not be empty")
    .max(120, "must be at most 120 characters")
    .refine(readable, READABLE)
    .optional(),
});

/** One goal: `kind: "page"` carries `page_path`, `kind: "event"` carries `event_name`, never both. */
export const GoalSchema = GoalFields.superRefine((goal, ctx) => {
  const [wanted, unwanted] =
    goal.kind === "page" ? (["page_path", "event_name"] as const) : (["event_name", "page_path"] as const);
  if (goal[wanted] === undefined)
    ctx.addIssue({ code: "custom", path: [wanted], message: `is required when kind is "${goal.kind}"` });
  if (goal[unwanted] !== undefined)
    ctx.addIssue({ code: "custom", path: [unwanted], message: `is not allowed when kind is "${goal.kind}"` });
});
export type Goal = z.infer<typeof GoalSchema>;

/** `POST /api/v1/properties/:id/goals` body: one goal. */
export const CreateGoalSchema = GoalSchema;
export type CreateGoal = z.infer<typeof CreateGoalSchema>;

/** The key two goal names collide on: names are unique regardless of case. */
export function goalKey(name: string): string {
  return name.trim().toLowerCase();
}

/** A property's goals: at most 100, names unique case-insensitively. */
export const GoalsSchema = z
  .array(GoalSchema)
  .max(MAX_GOALS, `must have at most ${MAX_GOALS} goals`)
  .superRefine((goals, ctx) => {
    const seen = new Set<string>();
    goals.forEach((goal, index) => {
      const key = goalKey(goal.name);
      if (seen.has(key))
        ctx.addIssue({ code: "custom", path: [index, "name"], message: `duplicate goal name "${goal.name}"` });
      seen.add(key);
    });
  });

const RE2_META = /[\\.+*?()|[\]{}^$]/g;
const escapeRe2 = (literal: string) => literal.replace(RE2_META, "\\$&");

/**
 * A page goal's pattern as an anchored RE2 regex: `**` matches across segments (`.*`), `*` within
 * one (`[^/]*`), everything else literally. `/blog/**` matches `/blog/a/b` but not `/blog`.
 */
export function goalPathRegex(pattern: string): string {
  const body = pattern
    .split("**")
    .map((part) => part.split("*").map(escapeRe2).join("[^/]*"))
    .join(".*");
  return `^${body}$`;
}
