/**
 * The team API's bodies and answers (README "People, keys and sharing"): one definition each, for
 * the routes (workers/team/), the actors (AccountDO, TeamDO) and the dashboard (types only).
 */
import { z } from "zod";
import { CONTROL_CHARS, PROPERTY_ID_PATTERN } from "../event.ts";
import { ROLES } from "./roles.ts";

const readable = (s: string) => s.isWellFormed() && !CONTROL_CHARS.test(s);
const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `must be at most ${max} characters`)
    .refine(readable, "must be valid Unicode without control characters");

export const EmailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, "must be at most 254 characters")
  .pipe(z.email("must be an email address"));

/** Long enough to resist guessing at the rate sign-in allows; no composition rules (NIST 800-63B). */
export const PasswordSchema = z
  .string()
  .min(10, "must be at least 10 characters")
  .max(200, "must be at most 200 characters")
  .refine(readable, "must be valid Unicode without control characters");

export const RoleSchema = z.enum(ROLES, { error: () => `must be one of ${ROLES.join(", ")}` });
const PropertyIdSchema = z.string().regex(PROPERTY_ID_PATTERN, "is not a valid property id");

export const SignInSchema = z.strictObject({ email: EmailSchema, password: z.string().min(1).max(200) });

export const InvitationRequestSchema = z.strictObject({ email: EmailSchema, role: RoleSchema });

export const AcceptInvitationSchema = z.strictObject({
  property_id: PropertyIdSchema,
  token: z.string().max(100),
  email: EmailSchema,
  password: PasswordSchema,
  /** A new account's display name; an existing account keeps its own. */
  name: text(100).optional(),
});

export const MemberPatchSchema = z.strictObject({ role: RoleSchema });

export const ShareRequestSchema = z.strictObject({
  label: text(100).default(""),
  password: z.string().min(8, "must be at least 8 characters").max(200).optional(),
  /** When the link stops working (ISO 8601); none: until revoked. */
  expires_at: z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time" }).optional(),
});

export const ShareUnlockSchema = z.strictObject({
  property_id: PropertyIdSchema,
  token: z.string().max(100),
  password: z.string().min(1).max(200),
});

export const SAVED_KINDS = ["report", "segment"] as const;
const MAX_DEFINITION_BYTES = 16_384;
export const SavedItemRequestSchema: z.ZodType<SavedItemRequest> = z.strictObject({
  kind: z.enum(SAVED_KINDS, { error: () => `must be one of ${SAVED_KINDS.join(", ")}` }),
  name: text(120).pipe(z.string().min(1, "must not be empty")),
  /** A report's query (metrics, dimensions, filters …) or a segment's `{filters}`: checked when run. */
  definition: z
    .record(z.string(), z.json())
    .refine((d) => JSON.stringify(d).length <= MAX_DEFINITION_BYTES, `must be at most ${MAX_DEFINITION_BYTES} bytes`),
});
/** A JSON value, spelt out: RPC and the dashboard need a finite type (zod's z.json() recurses forever). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export interface SavedItemRequest {
  kind: (typeof SAVED_KINDS)[number];
  name: string;
  definition: { [key: string]: JsonValue };
}

export const AnnotationRequestSchema = z.strictObject({
  date: z.iso.date("must be a date, YYYY-MM-DD"),
  text: text(280).pipe(z.string().min(1, "must not be empty")),
});
export type AnnotationRequest = z.infer<typeof AnnotationRequestSchema>;

export const DIGEST_CHANNELS = ["email", "slack"] as const;
export const DIGEST_FREQUENCIES = ["weekly", "monthly"] as const;
export const DigestRequestSchema = z
  .strictObject({
    channel: z.enum(DIGEST_CHANNELS, { error: () => `must be one of ${DIGEST_CHANNELS.join(", ")}` }),
    /** An email address, or a Slack-compatible incoming-webhook URL (https). */
    target: z.string().trim().max(2048),
    frequency: z.enum(DIGEST_FREQUENCIES, { error: () => `must be one of ${DIGEST_FREQUENCIES.join(", ")}` }),
  })
  .superRefine((d, ctx) => {
    const ok = d.channel === "email" ? EmailSchema.safeParse(d.target).success : isWebhookUrl(d.target);
    if (!ok)
      ctx.addIssue({
        code: "custom",
        path: ["target"],
        message: d.channel === "email" ? "must be an email address" : "must be an https:// webhook URL",
      });
  })
  .transform((d) => (d.channel === "email" ? { ...d, target: d.target.toLowerCase() } : d));
export type DigestRequest = z.infer<typeof DigestRequestSchema>;

function isWebhookUrl(value: string): boolean {
  try {
    const url = new URL(value);
    // http only to this machine: the dev stack's and the tests' receivers.
    return url.protocol === "https:" || (url.protocol === "http:" && url.hostname === "127.0.0.1");
  } catch {
    return false;
  }
}

// ─── What the API answers ────────────────────────────────────────────────────────────────────────

export interface Member {
  email: string;
  role: (typeof ROLES)[number];
  added_at: number;
  added_by: string;
}
export interface Invitation {
  invitation_id: string;
  email: string;
  role: (typeof ROLES)[number];
  created_at: number;
  created_by: string;
  expires_at: number;
}
export interface Share {
  share_id: string;
  label: string;
  has_password: boolean;
  created_at: number;
  created_by: string;
  expires_at: number | null;
  revoked_at: number | null;
}
export interface SavedItem extends SavedItemRequest {
  id: string;
  owner: string;
  created_at: number;
  updated_at: number;
  updated_by: string;
}
/** A saved item as the TeamDO keeps and passes it: the definition as JSON text (RPC types stay finite). */
export interface StoredSavedItem extends Omit<SavedItem, "definition"> {
  definition: string;
}
export interface Annotation extends AnnotationRequest {
  id: string;
  created_by: string;
  created_at: number;
}
export interface Digest {
  id: string;
  channel: (typeof DIGEST_CHANNELS)[number];
  target: string;
  frequency: (typeof DIGEST_FREQUENCIES)[number];
  created_by: string;
  created_at: number;
  /** The last period sent (`2026-W48`, `2026-11`), or null. */
  last_period: string | null;
  last_error: string | null;
}
export interface AuditEntry {
  seq: number;
  at: number;
  actor: string;
  action: string;
  /** What it acted on: an email, a key id, a share id … */
  target: string;
  detail: Record<string, string | number | boolean | null>;
}
/** `GET /api/v1/auth/me`. */
export interface Me {
  email: string;
  name: string;
  properties: { property_id: string; role: (typeof ROLES)[number] }[];
}
