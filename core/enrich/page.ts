/** What a page URL says: host, path, campaign parameters and ad click ids. */
import { parseUrl } from "../url.ts";

export interface PageInfo {
  page_host: string;
  page_path: string;
  utm_source: string;
  utm_medium: string;
  utm_campaign: string;
  utm_term: string;
  utm_content: string;
  /** Which ad platform's click id the URL carries (gclid, fbclid, …), if any. */
  click_id_type: string;
}

/** Click-id parameters of the ad platforms, in the order they are checked. */
export const CLICK_ID_PARAMS = [
  "gclid",
  "gbraid",
  "wbraid",
  "dclid",
  "fbclid",
  "msclkid",
  "ttclid",
  "twclid",
  "li_fat_id",
  "yclid",
  "epik",
  "rdt_cid",
  "sccid",
] as const;

const MAX_PARAM = 256;
// A decoded parameter may hold control characters (`utm_source=%00`), which no report wants and
// PostgreSQL's text refuses outright (NUL): the warehouse could not load the hour.
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/g;

/**
 * Parses a validated http(s) URL; `hashRouting` keeps `#/route` as part of the path (SPAs).
 * Each search-parameter lookup is a call into the runtime's URL implementation, and most page
 * URLs carry none of the eighteen names looked for: a name absent from the raw query string is
 * skipped. That holds only where names are written as they read, so a query with `%` or `+`
 * (which URLSearchParams decodes) is looked up in full.
 */
export function parsePage(pageUrl: string, hashRouting = false): PageInfo {
  // Validated already; `new URL` throws as before should an unvalidated string come here.
  const url = parseUrl(pageUrl) ?? new URL(pageUrl);
  const search = url.search;
  const q = search.length > 1 ? url.searchParams : undefined;
  const literal = !/[%+]/.test(search);
  const present = (name: string) => q !== undefined && (!literal || search.includes(name));
  const param = (name: string) => (present(name) ? (q?.get(name) ?? "").replace(CONTROL, "").slice(0, MAX_PARAM) : "");
  const path = hashRouting && url.hash ? `${url.pathname}${url.hash}` : url.pathname;
  return {
    page_host: url.hostname.toLowerCase(),
    page_path: path || "/",
    utm_source: param("utm_source"),
    utm_medium: param("utm_medium"),
    utm_campaign: param("utm_campaign"),
    utm_term: param("utm_term"),
    utm_content: param("utm_content"),
    click_id_type: CLICK_ID_PARAMS.find((p) => present(p) && q?.has(p)) ?? "",
  };
}
