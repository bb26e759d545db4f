/**
 * What the request itself says about the visitor: IP (for hashing and truncation only, never
 * stored raw), user agent, client hints, and geography from `request.cf`. Geography never comes
 * from a public request's body.
 */
import { type EdgeFacts, type Geo, NO_GEO } from "../../core/enrich/enrich.ts";

type Cf = Partial<IncomingRequestCfProperties> & { botManagement?: { score?: number; verifiedBot?: boolean } };

const text = (v: unknown, max = 128): string => (typeof v === "string" ? v.slice(0, max) : "");

/** Geography from Cloudflare's edge; `wrangler dev` gives a placeholder, so everything is optional. */
export function geoFromCf(cf: Cf | undefined): Geo {
  if (!cf) return NO_GEO;
  const asn = typeof cf.asn === "number" && Number.isInteger(cf.asn) && cf.asn >= 0 ? cf.asn : 0;
  return {
    country: text(cf.country, 2).toUpperCase(),
    region: text(cf.region),
    city: text(cf.city),
    continent: text(cf.continent, 2),
    timezone: text(cf.timezone, 64),
    asn,
  };
}

export function edgeFacts(request: Request): EdgeFacts {
  const h = request.headers;
  const cf = request.cf as Cf | undefined;
  const score = cf?.botManagement?.score;
  return {
    ip: h.get("cf-connecting-ip") ?? "",
    userAgent: (h.get("user-agent") ?? "").slice(0, 512),
    hints: {
      mobile: h.get("sec-ch-ua-mobile"),
      platform: h.get("sec-ch-ua-platform"),
      platformVersion: h.get("sec-ch-ua-platform-version"),
    },
    geo: geoFromCf(cf),
    botScore: typeof score === "number" ? score : undefined,
    verifiedBot: cf?.botManagement?.verifiedBot === true,
  };
}
