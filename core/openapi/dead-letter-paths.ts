/** The dead-letter routes (workers/ops/dead-letters.ts) in the OpenAPI document (core/openapi.ts). */
import { z } from "zod";
import {
  AuditListSchema,
  DeadLetterDetailSchema,
  DeadLetterListSchema,
  DropAnswerSchema,
  DropRequestSchema,
  ReplayAllAnswerSchema,
  ReplayAnswerSchema,
} from "../ops/dead-letter.ts";
import { errors, inPath, json, queryParameters } from "./answers.ts";

const BASE = "/api/v1/ops/dead-letters";
const NOT_FOUND = { 404: "dead_letter_not_found: no such dead letter (replayed, dropped or never kept)" };
const answer = (description: string, schema: z.ZodType) => ({
  description,
  content: { "application/json": { schema: json(schema, "output") } },
});
const UNDECODABLE = {
  "422": {
    description: "dead_letter_undecodable: the body is not an events message; it cannot be replayed (drop it)",
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
  },
};
const page = z.object({
  limit: z.number().int().min(1).max(200).optional(),
  cursor: z.string().optional().meta({ description: "The previous answer's cursor" }),
});

export function deadLetterPaths() {
  return {
    [BASE]: {
      get: {
        summary: "Dead letters with their last error, a page in id order (admin token)",
        parameters: queryParameters(page),
        responses: { "200": answer("A page", DeadLetterListSchema), ...errors([400, 401, 429]) },
      },
    },
    [`${BASE}/audit`]: {
      get: {
        summary: "Replays and drops, newest first (admin token)",
        parameters: queryParameters(z.object({ limit: z.number().int().min(1).max(500).optional() })),
        responses: { "200": answer("The audit", AuditListSchema), ...errors([400, 401, 429]) },
      },
    },
    [`${BASE}/replay-all`]: {
      post: {
        summary:
          "Replay every dead letter that decodes, a bounded page per call; call again with the cursor (admin token)",
        parameters: queryParameters(page.extend({ limit: z.number().int().min(1).max(25).optional() })),
        responses: { "202": answer("Replayed and skipped ids", ReplayAllAnswerSchema), ...errors([400, 401, 429]) },
      },
    },
    [`${BASE}/{id}`]: {
      parameters: inPath("id"),
      get: {
        summary:
          "One dead letter with its first 20 events, or the first 2 KB of a body that does not decode (admin token)",
        responses: {
          "200": answer("The dead letter", DeadLetterDetailSchema),
          ...errors([400, 401, 404, 429], NOT_FOUND),
        },
      },
      delete: {
        summary:
          "Drop a dead letter: its events are given up; an audit record keeps the summary, the reason and the body's SHA-256 (admin token)",
        requestBody: { required: true, content: { "application/json": { schema: json(DropRequestSchema) } } },
        responses: { "200": answer("The audit record", DropAnswerSchema), ...errors([400, 401, 404, 429], NOT_FOUND) },
      },
    },
    [`${BASE}/{id}/replay`]: {
      parameters: inPath("id"),
      post: {
        summary:
          "Send a dead letter's body back to the events queue (event ids are kept: the consumer stores each once) (admin token)",
        responses: {
          "202": answer("Replayed", ReplayAnswerSchema),
          ...errors([400, 401, 404, 429], NOT_FOUND),
          ...UNDECODABLE,
        },
      },
    },
  };
}
