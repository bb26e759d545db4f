/**
 * One line of an NDJSON import: an event as /collect takes it, plus the geography a server may
 * know (country, region, city), any timestamp, and a required client_id (history has no request
 * to derive a cookieless id from).
 */
import { z } from "zod";
import { type Geo, NO_GEO } from "../enrich/enrich.ts";
import { type Candidate, judgeEvent, type ParseOptions } from "./collect-batch.ts";

export const ImportGeoSchema = z.strictObject({
  country: z
    .string()
    .regex(/^[A-Za-z]{2}$/, "must be an ISO 3166-1 alpha-2 code such as DE")
    .optional(),
  region: z.string().max(128).optional(),
  city: z.string().max(128).optional(),
});

export interface ImportLine {
  candidate: Candidate;
  geo: Geo;
}

/** Judges one line (already JSON-parsed); `index` is its position in the chunk, `lineNo` in the file. */
export function judgeImportLine(
  value: unknown,
  index: number,
  lineNo: number,
  propertyId: string,
  options: ParseOptions,
): ImportLine {
  const fail = (code: "invalid_event", path: string, message: string): ImportLine => ({
    candidate: { index, ok: false, code, issues: [{ path: `line ${lineNo}${path ? `.${path}` : ""}`, message }] },
    geo: NO_GEO,
  });
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return fail("invalid_event", "", "must be a JSON object");
  const { country, region, city, ...rest } = value as Record<string, unknown>;
  const geo = ImportGeoSchema.safeParse({ country, region, city });
  if (!geo.success)
    return fail(
      "invalid_event",
      String(geo.error.issues[0]?.path[0] ?? ""),
      geo.error.issues[0]?.message ?? "is invalid",
    );
  if (rest.property_id !== undefined && rest.property_id !== propertyId) {
    // JSON, not String(): an object with its own "toString" key makes String() throw.
    const given = typeof rest.property_id === "string" ? rest.property_id : JSON.stringify(rest.property_id);
    return fail("invalid_event", "property_id", `is ${given.slice(0, 100)}, but this import is for ${propertyId}`);
  }
  if (typeof rest.client_id !== "string" || rest.client_id === "")
    return fail("invalid_event", "client_id", "is required for import");
  const candidate = judgeEvent({ ...rest, property_id: propertyId }, index, options);
  if (!candidate.ok) {
    const issues = candidate.issues.map((i) => ({ ...i, path: i.path.replace(/^events\[\d+\]/, `line ${lineNo}`) }));
    return { candidate: { ...candidate, issues }, geo: NO_GEO };
  }
  return {
    candidate,
    geo: {
      ...NO_GEO,
      country: geo.data.country?.toUpperCase() ?? "",
      region: geo.data.region ?? "",
      city: geo.data.city ?? "",
    },
  };
}

/** Parses and judges one raw line of text. */
export function judgeImportText(
  text: string,
  index: number,
  lineNo: number,
  propertyId: string,
  options: ParseOptions,
): ImportLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {
      candidate: {
        index,
        ok: false,
        code: "invalid_json",
        issues: [{ path: `line ${lineNo}`, message: "is not valid JSON" }],
      },
      geo: NO_GEO,
    };
  }
  return judgeImportLine(value, index, lineNo, propertyId, options);
}
