/** The OpenAPI paths of ingestion (collect, the compat endpoints, import) and of the live figures. */
import { body, COLLECT_ERRORS, COLLECT_NOTES, errors, inQuery, KEY_ERRORS, type Status } from "./answers.ts";

/** A CORS preflight of a collect endpoint: answered only for origins some property lists. */
const preflight = {
  summary: "CORS preflight",
  security: [],
  responses: {
    "204": { description: "The Origin is a domain of some property" },
    "403": { description: "The Origin is no property's domain" },
    ...errors([429], { 429: "Over this address's lookups of unknown origins; Retry-After: 60" }),
  },
};

/** A collect-like endpoint: no credentials, the Plausible/GA4/Umami/Tally body. */
function collectOp(
  summary: string,
  ref: string,
  answer: Record<string, object>,
  notes: Partial<Record<Status, string>> = {},
) {
  return {
    summary,
    security: [],
    requestBody: body(ref),
    responses: { ...answer, ...errors(COLLECT_ERRORS, { ...COLLECT_NOTES, ...notes }) },
  };
}

const MP_PARAMS = [
  inQuery("measurement_id", "The property id; a value that cannot be one is a 400"),
  inQuery("api_secret", "The property's Measurement Protocol secret; a wrong one counts as a failed authentication"),
];
const MP_NOTES = { 403: "The api_secret is not the property's" };

/** Paths with no credentials (the collect endpoints), then import and realtime (API key or admin token). */
export function ingestPaths() {
  return {
    "/collect": {
      post: collectOp("Send one event, an array of up to 20, or {events:[…]}", "Event", {
        "202": { description: "Accepted (or partially: the rejected ones are listed)" },
      }),
      options: preflight,
    },
    "/api/event": {
      post: collectOp(
        "Plausible's Events API",
        "PlausibleEvent",
        { "202": { description: "{} always; x-plausible-dropped: 1 when the hit was not recorded" } },
        { 400: "Invalid body, no User-Agent, or d naming more than 10 sites", 404: "No property lists the domain" },
      ),
      options: preflight,
    },
    "/api/send": {
      post: collectOp("Umami's tracker and @umami/node", "UmamiBody", {
        "200": { description: '{cache, sessionId, visitId}; bots get {"beep":"boop"}' },
      }),
      options: preflight,
    },
    "/mp/collect": {
      post: {
        ...collectOp("GA4 Measurement Protocol", "Ga4Body", { "204": { description: "Accepted" } }, MP_NOTES),
        parameters: MP_PARAMS,
      },
    },
    "/debug/mp/collect": {
      post: {
        ...collectOp(
          "GA4 Measurement Protocol, validated",
          "Ga4Body",
          { "200": { description: "{validationMessages}" } },
          MP_NOTES,
        ),
        parameters: MP_PARAMS,
      },
    },
    "/api/v1/import": {
      post: {
        summary: "Import history as NDJSON, one event per line (at most 50,000 events and 64 MiB)",
        parameters: [inQuery("property", "The property imported into")],
        requestBody: { required: true, content: { "application/x-ndjson": { schema: { type: "string" } } } },
        responses: {
          "200": {
            description:
              "{property_id, accepted, rejected, errors:[{line, code, message}]}; lines older than ARCHIVE_RETENTION_DAYS are rejected (timestamp_out_of_range)",
          },
          ...errors([...KEY_ERRORS, 413, 503], {
            429: "rate_limited: the property's import budget this minute, or this address failed authentication too often",
          }),
        },
      },
    },
    "/api/v1/realtime": {
      get: {
        summary: "The property's live figures",
        parameters: [inQuery("property", "The property")],
        responses: {
          "200": { description: "Active visitors, the last 30 minutes, top lists" },
          ...errors(KEY_ERRORS),
        },
      },
    },
    "/api/v1/realtime/token": {
      post: {
        summary: "A one-minute token for a browser's WebSocket",
        parameters: [inQuery("property", "The property")],
        responses: { "201": { description: "{property_id, token, expires_at}" }, ...errors(KEY_ERRORS) },
      },
    },
    "/ws/realtime": {
      get: {
        summary:
          "Live figures over a WebSocket (Authorization: Bearer <key>, or &token=…); closed with 4001 when its key is revoked, 4004 when the property is deleted",
        parameters: [inQuery("property", "The property")],
        responses: { "101": { description: "Switching protocols" }, ...errors([...KEY_ERRORS, 426]) },
      },
    },
  };
}
