/** The OpenAPI paths of the admin API, a property's goals and funnels, GDPR, and the operators' jobs. */
import { body, errors, inPath, KEY_ERRORS, ok } from "./answers.ts";

/** A property's own routes, by role: 410 once it is deleted. */
const PROPERTY_ERRORS = [...KEY_ERRORS, 410] as const;

/** The admin API's property routes, and the goals and funnels a property's key may change. */
export function propertyPaths() {
  const id = inPath("id");
  return {
    "/api/v1/properties": {
      post: {
        summary: "Create a property (admin token)",
        requestBody: body("CreateProperty"),
        responses: { "201": { description: "Created; the API key is shown once" }, ...errors([400, 401, 409, 429]) },
      },
      get: {
        summary: "List properties (admin token)",
        responses: {
          "200": { description: "{properties (with status), deleted: [who deleted each, when]}" },
          ...errors([401, 429]),
        },
      },
    },
    "/api/v1/properties/{id}": {
      parameters: id,
      get: {
        summary: "Read a property (needs read; its keys only with people); 410 once deleted",
        responses: {
          "200": { description: "Its configuration, keys (never secrets) and refusal counters" },
          ...errors(PROPERTY_ERRORS),
        },
      },
      patch: {
        summary: "Change a property (needs manage; public_dashboard and embed_origins need people)",
        requestBody: body("PatchProperty"),
        responses: { "200": { description: "The new configuration" }, ...errors(PROPERTY_ERRORS) },
      },
      delete: {
        summary: "Delete a property and erase its data (needs own); repeating it answers the same deletion",
        responses: {
          "202": {
            ...ok("Deleted; the erasure of its data runs (Location: status_url)", "PropertyDeletion"),
            headers: { Location: { schema: { type: "string" } } },
          },
          ...errors(PROPERTY_ERRORS),
        },
      },
    },
    "/api/v1/properties/{id}/keys": {
      parameters: id,
      get: {
        summary: "The property's API keys with their roles, never secrets (needs people)",
        responses: { "200": { description: "{keys}" }, ...errors(PROPERTY_ERRORS) },
      },
      post: {
        summary:
          "Issue an API key of a role ({label?, role?}: admin unless said, never above the issuer's; needs people)",
        responses: { "201": { description: "The key, shown once" }, ...errors(PROPERTY_ERRORS) },
      },
    },
    "/api/v1/properties/{id}/keys/{key_id}": {
      parameters: inPath("id", "key_id"),
      delete: {
        summary: "Revoke a key (needs people); its sockets and every token socket close (4001)",
        responses: { "200": { description: "{property_id, key_id, revoked}" }, ...errors(PROPERTY_ERRORS) },
      },
    },
    "/api/v1/properties/{id}/mp-secret": {
      parameters: id,
      post: {
        summary: "Rotate the GA4 api_secret (needs people)",
        responses: { "201": { description: "The new secret, shown once" }, ...errors(PROPERTY_ERRORS) },
      },
    },
    "/api/v1/properties/{id}/goals": {
      parameters: id,
      get: { summary: "List goals", responses: { "200": { description: "{goals:[…]}" }, ...errors(KEY_ERRORS) } },
      post: {
        summary: "Add a goal",
        requestBody: body("Goal"),
        responses: { "201": { description: "{goals:[…]}" }, ...errors([...KEY_ERRORS, 409]) },
      },
    },
    "/api/v1/properties/{id}/goals/{name}": {
      parameters: inPath("id", "name"),
      delete: { summary: "Delete a goal", responses: { "204": { description: "Deleted" }, ...errors(KEY_ERRORS) } },
    },
    "/api/v1/properties/{id}/funnels": {
      parameters: id,
      get: {
        summary: "List saved funnels",
        responses: { "200": { description: "{funnels:[…]}" }, ...errors(KEY_ERRORS) },
      },
      put: {
        summary: "Replace the saved funnels",
        requestBody: body("Funnels"),
        responses: { "200": { description: "{funnels:[…]}" }, ...errors(KEY_ERRORS) },
      },
    },
  };
}

/** GDPR: erase or export a visitor (the client_id or user_id the site sent, URL-encoded), follow erasures. */
export function privacyPaths() {
  const erasureErrors = errors(KEY_ERRORS, { 404: "Unknown property or erasure" });
  return {
    "/api/v1/properties/{id}/visitors/{visitor}": {
      parameters: inPath("id", "visitor"),
      delete: {
        summary: "Erase a visitor from every store; asking again while it waits or runs returns the same erasure",
        responses: {
          "202": {
            ...ok("Queued (Location: status_url)", "ErasureAccepted"),
            headers: { Location: { schema: { type: "string" } } },
          },
          ...errors(KEY_ERRORS, {
            429: "too_many_erasures: 1,000 erasures wait; or rate_limited: this address failed authentication too often",
          }),
        },
      },
    },
    "/api/v1/properties/{id}/visitors/{visitor}/export": {
      parameters: inPath("id", "visitor"),
      get: {
        summary: "Export a visitor's events",
        responses: {
          "200": { description: "NDJSON, one event a line", content: { "application/x-ndjson": {} } },
          ...errors(KEY_ERRORS),
        },
      },
    },
    "/api/v1/properties/{id}/erasures": {
      parameters: inPath("id"),
      get: {
        summary: "The erasure audit: every finished erasure, newest first",
        responses: { "200": { description: "{erasures:[ErasureStatus]}" }, ...erasureErrors },
      },
    },
    "/api/v1/properties/{id}/erasures/{erasure_id}": {
      parameters: inPath("id", "erasure_id"),
      get: {
        summary: "One erasure's progress: state, step, what each store removed",
        responses: { "200": ok("The erasure", "ErasureStatus"), ...erasureErrors },
      },
    },
  };
}

const RUNNING = { 409: "A job is still running: one at a time" };

/** Replay and warehouse backfills (admin token). */
export function adminJobPaths() {
  return {
    "/api/v1/admin/replay": {
      post: {
        summary: "Start a replay (admin token)",
        requestBody: body("ReplaySpec"),
        responses: { "202": { description: "The job" }, ...errors([400, 401, 409, 429], RUNNING) },
      },
      get: {
        summary: "The replay job (admin token)",
        responses: { "200": { description: "The job" }, ...errors([401, 429]) },
      },
    },
    "/api/v1/admin/warehouse/load": {
      post: {
        summary: "Start a warehouse backfill (admin token)",
        requestBody: body("BackfillSpec"),
        responses: { "202": { description: "The job" }, ...errors([400, 401, 409, 429, 501], RUNNING) },
      },
      get: {
        summary: "The backfill job (admin token)",
        responses: { "200": { description: "The job" }, ...errors([401, 429]) },
      },
    },
  };
}
