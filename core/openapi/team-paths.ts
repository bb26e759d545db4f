/**
 * People, keys and sharing (workers/team/, issue #21) in the OpenAPI document (core/openapi.ts).
 * Property routes take a person's `tally_session` cookie, an API key, a shared link's token or the
 * admin token; each says the capability it needs (core/team/roles.ts).
 */
import type { z } from "zod";
import {
  AcceptInvitationSchema,
  AnnotationRequestSchema,
  DigestRequestSchema,
  InvitationRequestSchema,
  MemberPatchSchema,
  ShareRequestSchema,
  ShareUnlockSchema,
  SignInSchema,
} from "../team/schemas.ts";
import { errors, inPath, json, KEY_ERRORS } from "./answers.ts";

const BASE = "/api/v1/properties/{id}";
const jsonBody = (schema: z.ZodType) => ({ required: true, content: { "application/json": { schema: json(schema) } } });
const done = (description: string) => ({
  description,
  content: { "application/json": { schema: { type: "object" } } },
});
const TEAM_ERRORS = [...KEY_ERRORS, 409] as const;
const needs = (capability: string, summary: string) => `${summary} (needs ${capability})`;

const SAVED_BODY = {
  required: true,
  content: {
    "application/json": {
      schema: {
        type: "object",
        required: ["kind", "name", "definition"],
        properties: {
          kind: { enum: ["report", "segment"] },
          name: { type: "string", maxLength: 120 },
          definition: { type: "object", description: "a report's query or a segment's {filters}; at most 16 KB" },
        },
      },
    },
  },
};

export function teamPaths() {
  return {
    "/api/v1/auth/sign-in": {
      post: {
        summary: "Sign in with email and password: sets the tally_session cookie (HttpOnly, Secure, SameSite=Strict)",
        requestBody: jsonBody(SignInSchema),
        responses: {
          "200": done("Me: {email, name, properties}"),
          ...errors([400, 401, 429], {
            401: "invalid_credentials",
            429: "too_many_attempts: 10 wrong passwords lock the account for 15 minutes, or this address failed too often",
          }),
        },
      },
    },
    "/api/v1/auth/sign-out": {
      post: { summary: "End this session", responses: { "204": { description: "Signed out" } } },
    },
    "/api/v1/auth/sign-out-everywhere": {
      post: {
        summary: "End every session of the account",
        responses: { "204": { description: "Signed out everywhere" }, ...errors([401, 429]) },
      },
    },
    "/api/v1/auth/me": {
      get: {
        summary: "The signed-in person and their properties",
        responses: { "200": done("Me"), ...errors([401, 429]) },
      },
    },
    "/api/v1/invitations/{id}/{token}": {
      parameters: inPath("id", "token"),
      get: {
        summary: "What an invitation grants (no other credential: the token is one)",
        responses: {
          "200": done("{property_id, property_name, email, role, expires_at, account_exists}"),
          ...errors([400, 404, 429]),
        },
      },
    },
    "/api/v1/invitations/accept": {
      post: {
        summary:
          "Accept an invitation: a new account takes the password; an existing one must give its own. Sets the session cookie",
        requestBody: jsonBody(AcceptInvitationSchema),
        responses: { "200": done("Me"), ...errors([400, 401, 403, 404, 429]) },
      },
    },
    [`${BASE}/access`]: {
      parameters: inPath("id"),
      get: {
        summary: needs("read", "Who the caller is here and what they may do"),
        responses: { "200": done("{principal, role, capabilities, property}"), ...errors(KEY_ERRORS) },
      },
    },
    [`${BASE}/members`]: {
      parameters: inPath("id"),
      get: {
        summary: needs("people", "Members and pending invitations"),
        responses: { "200": done("{members, invitations}"), ...errors(KEY_ERRORS) },
      },
    },
    [`${BASE}/members/{email}`]: {
      parameters: inPath("id", "email"),
      patch: {
        summary: needs("people; owner changes need own", "Change a member's role"),
        requestBody: jsonBody(MemberPatchSchema),
        responses: { "200": done("{email, role}"), ...errors(TEAM_ERRORS, { 409: "last_owner" }) },
      },
      delete: {
        summary: needs("people, or the member themself", "Remove a member"),
        responses: { "200": done("{removed: true}"), ...errors(TEAM_ERRORS, { 409: "last_owner" }) },
      },
    },
    [`${BASE}/invitations`]: {
      parameters: inPath("id"),
      post: {
        summary: needs("people; the owner role needs own", "Invite by email: the link is in the answer, once"),
        requestBody: jsonBody(InvitationRequestSchema),
        responses: {
          "201": done("{invitation, url}"),
          ...errors(TEAM_ERRORS, { 409: "already_member or limit_reached" }),
        },
      },
    },
    [`${BASE}/invitations/{invitationId}`]: {
      parameters: inPath("id", "invitationId"),
      delete: {
        summary: needs("people", "Revoke a pending invitation"),
        responses: { "200": done("{revoked: true}"), ...errors(KEY_ERRORS) },
      },
    },
    [`${BASE}/shares`]: {
      parameters: inPath("id"),
      get: { summary: needs("people", "Shared links"), responses: { "200": done("{shares}"), ...errors(KEY_ERRORS) } },
      post: {
        summary: needs(
          "people",
          "A read-only shared link, optionally with a password and an expiry: its URL and token in the answer, once",
        ),
        requestBody: jsonBody(ShareRequestSchema),
        responses: { "201": done("{share, token, url}"), ...errors(TEAM_ERRORS, { 409: "limit_reached" }) },
      },
    },
    [`${BASE}/shares/{shareId}`]: {
      parameters: inPath("id", "shareId"),
      delete: {
        summary: needs("people", "Revoke a shared link: it stops at once"),
        responses: { "200": done("{revoked: true}"), ...errors(KEY_ERRORS) },
      },
    },
    "/api/v1/share/{id}": {
      parameters: inPath("id"),
      get: {
        summary: "A shared link's (Bearer shr_…) or a public dashboard's property, and whether a password is due",
        responses: { "200": done("{property_id, name, timezone, mode, password_required}"), ...errors(KEY_ERRORS) },
      },
    },
    "/api/v1/shares/unlock": {
      post: {
        summary: "Unlock a password link: a shu_ token for 12 hours",
        requestBody: jsonBody(ShareUnlockSchema),
        responses: { "200": done("{token, expires_at}"), ...errors([400, 401, 429]) },
      },
    },
    "/share/{id}": {
      parameters: inPath("id"),
      get: {
        summary:
          "The dashboard page of a shared link (#token) or a public dashboard; framable only by the property's embed_origins",
        responses: { "200": { description: "HTML" } },
      },
    },
    "/share/{id}/*": {
      parameters: inPath("id"),
      get: { summary: "The same page under a deeper client route", responses: { "200": { description: "HTML" } } },
    },
    [`${BASE}/saved`]: {
      parameters: inPath("id"),
      get: {
        summary: needs("read", "Saved reports and segments (?kind=report|segment), with owner and last change"),
        responses: { "200": done("{items}"), ...errors(KEY_ERRORS) },
      },
      post: {
        summary: needs("write", "Save a report or a segment for the team"),
        requestBody: SAVED_BODY,
        responses: { "201": done("{item}"), ...errors(TEAM_ERRORS, { 409: "limit_reached" }) },
      },
    },
    [`${BASE}/saved/{itemId}`]: {
      parameters: inPath("id", "itemId"),
      put: {
        summary: needs("write", "Change a saved item"),
        requestBody: SAVED_BODY,
        responses: { "200": done("{item}"), ...errors(KEY_ERRORS) },
      },
      delete: {
        summary: needs("write", "Delete a saved item"),
        responses: { "200": done("{deleted: true}"), ...errors(KEY_ERRORS) },
      },
    },
    [`${BASE}/annotations`]: {
      parameters: inPath("id"),
      get: {
        summary: needs("read", "Annotations (?from&to, YYYY-MM-DD), by date"),
        responses: { "200": done("{annotations}"), ...errors(KEY_ERRORS) },
      },
      post: {
        summary: needs("write", "A note on a date, shown on every time chart"),
        requestBody: jsonBody(AnnotationRequestSchema),
        responses: { "201": done("{annotation}"), ...errors(TEAM_ERRORS, { 409: "limit_reached" }) },
      },
    },
    [`${BASE}/annotations/{annotationId}`]: {
      parameters: inPath("id", "annotationId"),
      delete: {
        summary: needs("write", "Delete an annotation"),
        responses: { "200": done("{deleted: true}"), ...errors(KEY_ERRORS) },
      },
    },
    [`${BASE}/digests`]: {
      parameters: inPath("id"),
      get: {
        summary: needs("write", "Scheduled digests (weekly or monthly overview by email or Slack webhook)"),
        responses: { "200": done("{digests}"), ...errors(KEY_ERRORS) },
      },
      post: {
        summary: needs("write", "Schedule a digest: {channel: email|slack, target, frequency: weekly|monthly}"),
        requestBody: jsonBody(DigestRequestSchema),
        responses: {
          "201": done("{digest}"),
          ...errors(TEAM_ERRORS, { 409: "smtp_not_configured (an email digest without SMTP_URL) or limit_reached" }),
        },
      },
    },
    [`${BASE}/digests/{digestId}`]: {
      parameters: inPath("id", "digestId"),
      delete: {
        summary: needs("write", "Stop a digest"),
        responses: { "200": done("{deleted: true}"), ...errors(KEY_ERRORS) },
      },
    },
    [`${BASE}/digests/{digestId}/send`]: {
      parameters: inPath("id", "digestId"),
      post: {
        summary: needs("write", "Send the last complete period now"),
        responses: { "200": done("{sent, period}"), ...errors(KEY_ERRORS) },
      },
    },
    "/api/v1/digests/unsubscribe": {
      get: {
        summary: "The unsubscribe page of a digest's email (?property_id&digest_id&token): a button that POSTs here",
        responses: { "200": { description: "HTML" }, ...errors([400, 403]) },
      },
      post: {
        summary: "Unsubscribe in one click (RFC 8058): the digest is deleted",
        responses: { "200": { description: "Unsubscribed" }, ...errors([400, 403]) },
      },
    },
    [`${BASE}/audit`]: {
      parameters: inPath("id"),
      get: {
        summary: needs("manage", "The audit log, newest first (?limit, ?before=<seq>, ?action)"),
        responses: { "200": done("{entries}"), ...errors(KEY_ERRORS) },
      },
    },
  };
}
