/**
 * Drop-in compatibility: switching from Plausible, GA4 (Measurement Protocol) or Umami is a change
 * of hostname. Each adapter maps its protocol into our event schema (core/compat/) and runs the
 * same pipeline as /collect; answers follow each protocol's own conventions.
 */
import { type Context, Hono } from "hono";
import type { z } from "zod";
import { couldBeHost, plausibleDomains } from "../../core/abuse.ts";
import { Ga4BodySchema, mapGa4 } from "../../core/compat/ga4.ts";
import { mapPlausible, PlausibleBodySchema } from "../../core/compat/plausible.ts";
import { mapUmami, UmamiBodySchema } from "../../core/compat/umami.ts";
import { AppError } from "../../core/errors.ts";
import { judgeEvent, type ParseOptions } from "../../core/ingest/collect-batch.ts";
import { describeIssues, toFieldIssues } from "../../core/issues.ts";
import { uuidv7 } from "../../core/uuid.ts";
import { propertyForDomain } from "../../platform/properties.ts";
import { lookupGuard } from "../../platform/throttle.ts";
import { readJsonBody } from "../collect/body.ts";
import { collectCors } from "../collect/cors.ts";
import { queueFailure } from "../collect/failures.ts";
import { countRefusedRequests } from "../collect/metrics.ts";
import { runPipeline } from "../collect/pipeline.ts";
import { refusal } from "../collect/respond.ts";
import { mpProperty } from "./mp-secret.ts";

export const compatRoutes = new Hono<{ Bindings: Env }>();
compatRoutes.use("/api/event", collectCors);
compatRoutes.use("/api/send", collectCors);
for (const path of ["/api/event", "/api/send", "/mp/collect", "/debug/mp/collect"])
  compatRoutes.use(path, countRefusedRequests);

function validate<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body);
  if (!result.success) throw new AppError("invalid_event", 400, describeIssues(toFieldIssues(result.error)));
  return result.data;
}

function judge(raws: readonly unknown[], bytes: number) {
  const options: ParseOptions = { nowMs: Date.now(), newId: uuidv7, enforceWindow: true, bodyBytes: bytes };
  return raws.map((raw, index) => judgeEvent(raw, index, options));
}

/** The properties a Plausible hit's domains name: at most MAX_PLAUSIBLE_DOMAINS lookups, limited per address. */
async function plausibleProperties(env: Env, request: Request, named: readonly string[]): Promise<string[]> {
  const capped = plausibleDomains(named);
  if (!capped.ok) throw new AppError("invalid_event", 400, capped.message);
  const guard = lookupGuard(env, request);
  const found = await Promise.all(
    capped.domains.map((d) => (couldBeHost(d) ? propertyForDomain(env, d, guard) : undefined)),
  );
  const ids = [...new Set(found.filter((id) => id !== undefined))];
  if (ids.length === 0) throw new AppError("property_not_found", 404, `d: no property lists ${named.join(", ")}`);
  return ids;
}

compatRoutes.post("/api/event", async function plausibleEvent(c) {
  if (!c.req.header("user-agent")) throw new AppError("invalid_request", 400, "User-Agent: header is required");
  const { body, bytes } = await readJsonBody(c.req.raw);
  const mapped = mapPlausible(validate(PlausibleBodySchema, body));
  if (mapped.domains.length === 0)
    throw new AppError("invalid_event", 400, "d: is required (or a url whose host is the site's domain)");
  const ids = await plausibleProperties(c.env, c.req.raw, mapped.domains);
  const candidates = judge(
    ids.map((property_id) => ({ ...mapped.event, property_id })),
    bytes,
  );
  const result = await runPipeline(c.env, c.req.raw, candidates, {
    sourceProtocol: "plausible",
    interactive: () => mapped.interactive,
    hashRouting: () => mapped.hashMode,
  }).catch(queueFailure);
  if (result.eventIds.every((id) => id === null)) throw refusal(result.rejections);
  // Plausible's answer: 202 {} always; x-plausible-dropped when the hit was not recorded.
  return c.json({}, 202, result.notTracked > 0 ? { "x-plausible-dropped": "1" } : {});
});

async function measurementProtocol(c: Context<{ Bindings: Env }>, debug: boolean) {
  const config = await mpProperty(c.env, c.req.raw, new URL(c.req.url));
  const propertyId = config.property_id;
  const { body, bytes } = await readJsonBody(c.req.raw);
  const parsed = Ga4BodySchema.safeParse(body);
  if (!parsed.success && debug) {
    const validationMessages = toFieldIssues(parsed.error).map((i) => ({
      fieldPath: i.path,
      description: i.message,
      validationCode: "VALUE_INVALID",
    }));
    return c.json({ validationMessages });
  }
  const raws = mapGa4(validate(Ga4BodySchema, body), propertyId, `https://${config.domains[0]}/`);
  const result = await runPipeline(c.env, c.req.raw, judge(raws, bytes), { sourceProtocol: "ga4" }).catch(queueFailure);
  const validationMessages = result.rejections.flatMap((r) =>
    r.issues.map((i) => ({ fieldPath: i.path, description: i.message, validationCode: "VALUE_INVALID" })),
  );
  if (debug) return c.json({ validationMessages });
  if (result.eventIds.every((id) => id === null)) throw refusal(result.rejections);
  return c.body(null, 204);
}

compatRoutes.post("/mp/collect", (c) => measurementProtocol(c, false));
compatRoutes.post("/debug/mp/collect", (c) => measurementProtocol(c, true));

compatRoutes.post("/api/send", async function umamiSend(c) {
  const { body, bytes } = await readJsonBody(c.req.raw);
  const parsed = validate(UmamiBodySchema, body);
  if (parsed.type === "identify") return c.json({ cache: "", sessionId: "", visitId: "" });
  const result = await runPipeline(c.env, c.req.raw, judge([mapUmami(parsed)], bytes), {
    sourceProtocol: "umami",
  }).catch(queueFailure);
  if (result.eventIds.every((id) => id === null)) throw refusal(result.rejections);
  const event = result.accepted[0];
  // Umami answers bots with {"beep":"boop"}; we keep the hit (flagged), and answer as Umami does.
  if (event?.is_bot) return c.json({ beep: "boop" });
  return c.json({ cache: "", sessionId: event?.client_id ?? "", visitId: event?.event_id ?? "" });
});
