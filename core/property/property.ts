/**
 * A property: one site or app being measured. Its configuration lives in its PropertyDO; the
 * collect edge caches it per isolate for at most a minute.
 */
import { z } from "zod";
import { IP_MODES } from "../enrich/privacy.ts";
import { POOLED_ARCHIVE_ID, PROPERTY_ID_PATTERN } from "../event.ts";
import { isTimeZone } from "../time.ts";
import { parseUrl } from "../url.ts";

const HOSTNAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** `https://www.Example.com:8443/path` → `www.example.com`: domains are hosts; scheme, port and path are ignored. */
export function normalizeDomain(value: string): string {
  const trimmed = value.trim().toLowerCase();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//.test(trimmed) ? trimmed : `https://${trimmed}`;
  return URL.canParse(withScheme) ? new URL(withScheme).hostname : trimmed;
}

const DomainSchema = z
  .string()
  .max(300)
  .transform(normalizeDomain)
  .refine((d) => HOSTNAME.test(d), "must be a host name such as example.com");

/** A query parameter name a property keeps in page URLs: letters, digits and `_ . - [ ]`, as names are written. */
const QueryParamSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.[\]-]{1,64}$/, "must be a query parameter name of 1-64 letters, digits or _ . - [ ]");

const privacyFields = {
  /** What is kept of the IP: a /24 (IPv4) or /48 (IPv6) prefix, or nothing. The raw IP never is. */
  ip_mode: z.enum(IP_MODES),
  /** Ignore first-party client ids and always use the daily cookieless id. */
  cookieless_only: z.boolean(),
  /** Drop hits from visitors who send `DNT: 1` or `Sec-GPC: 1`. */
  respect_dnt: z.boolean(),
  /**
   * Page-URL query parameters kept beside `utm_*` and the ad click ids (core/enrich/privacy.ts
   * keepsPageParam), e.g. `["q", "category"]`; every other parameter is dropped at ingestion.
   */
  query_params: z.array(QueryParamSchema).max(50),
};

export const PrivacySchema = z.strictObject({
  ip_mode: privacyFields.ip_mode.default("truncate"),
  cookieless_only: privacyFields.cookieless_only.default(false),
  respect_dnt: privacyFields.respect_dnt.default(false),
  // Absent in configurations stored before it existed: those keep no parameters of their own.
  query_params: privacyFields.query_params.default([]),
});
export const DEFAULT_PRIVACY: z.infer<typeof PrivacySchema> = {
  ip_mode: "truncate",
  cookieless_only: false,
  respect_dnt: false,
  query_params: [],
};
/** A privacy patch: only the fields given (no defaults, which would reset the ones not given). */
const PatchPrivacySchema = z.strictObject(privacyFields).partial();

/**
 * ISO 4217 codes: three capital letters the runtime's ICU knows as a currency (Intl lists the
 * codes in use), so `usd` or `EUX` is refused rather than stored.
 */
const KNOWN_CURRENCIES: ReadonlySet<string> | null =
  typeof Intl.supportedValuesOf === "function" ? new Set(Intl.supportedValuesOf("currency")) : null;
export function isCurrencyCode(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && (KNOWN_CURRENCIES === null || KNOWN_CURRENCIES.has(code));
}
export const CurrencySchema = z
  .string()
  .refine(isCurrencyCode, "must be an ISO 4217 currency code in capitals, such as USD or EUR");
/** The currency of properties whose configuration names none. */
export const DEFAULT_CURRENCY = "USD";

const mutable = {
  name: z.string().trim().min(1).max(200),
  domains: z.array(DomainSchema).min(1).max(50),
  timezone: z.string().max(64).refine(isTimeZone, "must be an IANA time zone such as Europe/Berlin"),
  disabled: z.boolean(),
  /** Single-page apps with `#/route` URLs: keep the fragment as part of the path. */
  hash_routing: z.boolean(),
  privacy: PrivacySchema,
  /**
   * Session actors for this property's visitors: 1 for a small site (one actor call per consumer
   * batch), more for a busy one (each actor handles ~1,000 calls/s). Changing it moves visitors
   * between actors: a visit in progress then starts a new session once.
   */
  session_shards: z.number().int().min(1).max(256),
  /** The currency revenue is reported in (ISO 4217); events carrying another are not converted. */
  currency: CurrencySchema,
  /** Anyone may read the reports at `/share/<id>`, without an account (Plausible's "public" mode). */
  public_dashboard: z.boolean(),
  /** Origins whose pages may frame `/share/<id>` (its CSP `frame-ancestors`); none: never framed. */
  embed_origins: z
    .array(
      z
        .url({ protocol: /^https?$/, error: "must be an origin such as https://example.com" })
        .transform((u) => new URL(u).origin),
    )
    .max(20),
};

/** The PATCH fields that decide who can see the reports: `people`, not `manage` (core/team/roles.ts). */
export const SHARING_FIELDS = ["public_dashboard", "embed_origins"] as const;

export const PropertyConfigSchema = z.strictObject({
  property_id: z.string().regex(PROPERTY_ID_PATTERN),
  ...mutable,
  // Absent in configurations stored before it existed: those keep SESSION_BUCKETS actors (sessionShards).
  session_shards: mutable.session_shards.optional(),
  // Absent in configurations stored before it existed: those report revenue in DEFAULT_CURRENCY.
  currency: mutable.currency.optional(),
  // Absent in configurations stored before sharing existed (issue #21): not public, never framed.
  public_dashboard: mutable.public_dashboard.optional(),
  embed_origins: mutable.embed_origins.optional(),
  created_at: z.number().int(),
  /** The earliest event imported from before the property was created (absent: none was). */
  history_from: z.number().int().optional(),
});
export type PropertyConfig = z.infer<typeof PropertyConfigSchema>;

/** Where the property's data starts — "All time" — its creation, or imported history before it. */
export function dataStart(config: Pick<PropertyConfig, "created_at" | "history_from">): number {
  return Math.min(config.created_at, config.history_from ?? config.created_at);
}

/** `POST /api/v1/properties` body. */
export const CreatePropertySchema = z.strictObject({
  property_id: z
    .string()
    .regex(PROPERTY_ID_PATTERN, "must look like UA-12345-1 or a 3-64 character slug")
    .refine((id) => id !== POOLED_ARCHIVE_ID, "is reserved for the archive")
    .optional(),
  name: mutable.name,
  domains: mutable.domains,
  timezone: mutable.timezone.default("UTC"),
  hash_routing: mutable.hash_routing.default(false),
  privacy: PrivacySchema.default(DEFAULT_PRIVACY),
  session_shards: mutable.session_shards.default(1),
  currency: mutable.currency.default(DEFAULT_CURRENCY),
});
export type CreateProperty = z.infer<typeof CreatePropertySchema>;

/** `PATCH /api/v1/properties/:id` body: some or all of the mutable fields. */
export const PatchPropertySchema = z.strictObject({
  name: mutable.name.optional(),
  domains: mutable.domains.optional(),
  timezone: mutable.timezone.optional(),
  disabled: mutable.disabled.optional(),
  hash_routing: mutable.hash_routing.optional(),
  privacy: PatchPrivacySchema.optional(),
  session_shards: mutable.session_shards.optional(),
  currency: mutable.currency.optional(),
  public_dashboard: mutable.public_dashboard.optional(),
  embed_origins: mutable.embed_origins.optional(),
});
export type PatchProperty = z.infer<typeof PatchPropertySchema>;

/** A fresh id in our spec's `UA-XXXXX-Y` form. */
export function newPropertyId(random: () => number = Math.random): string {
  return `UA-${Math.floor(10_000_000 + random() * 89_999_999)}-1`;
}

/** True when an `Origin` header belongs to the property: a listed host or a subdomain of one; ports ignored. */
export function originAllowed(origin: string, domains: readonly string[]): boolean {
  const host = parseUrl(origin)?.hostname.toLowerCase();
  if (host === undefined) return false;
  return domains.some((d) => host === d || host.endsWith(`.${d}`));
}

/** Applies a patch to a configuration (pure; the DO stores the result). */
export function applyPatch(config: PropertyConfig, patch: PatchProperty): PropertyConfig {
  return {
    ...config,
    ...Object.fromEntries(Object.entries(patch).filter(([k, v]) => v !== undefined && k !== "privacy")),
    privacy: { ...config.privacy, ...patch.privacy },
  };
}

/** The currency a property's revenue is reported in: its own setting, else DEFAULT_CURRENCY. */
export function propertyCurrency(config: Pick<PropertyConfig, "currency"> | undefined): string {
  return config?.currency ?? DEFAULT_CURRENCY;
}

/** How many session actors hold a property's visitors: its own setting, else the deployment's SESSION_BUCKETS. */
export function sessionShards(config: Pick<PropertyConfig, "session_shards"> | undefined, fallback: number): number {
  return config?.session_shards ?? fallback;
}
