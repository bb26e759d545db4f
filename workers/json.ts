/** Parsing JSON request bodies against a schema: the one place route handlers turn `unknown` into types. */
import type { z } from "zod";
import { AppError } from "../core/errors.ts";
import { describeIssues, toFieldIssues } from "../core/issues.ts";

/** Reads `request` as JSON and validates it; 400 naming each bad field otherwise. */
export async function parseJson<S extends z.ZodType>(request: Request, schema: S): Promise<z.infer<S>> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    throw new AppError("invalid_json", 400, "body: is not valid JSON");
  }
  const result = schema.safeParse(body);
  if (!result.success) throw new AppError("invalid_request", 400, describeIssues(toFieldIssues(result.error)));
  return result.data;
}
