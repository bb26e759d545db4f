/**
 * Our spec's ingestion budgets, and the token sizes the edge buys them in (see
 * workers/collect/rate-limit.ts): wrangler.toml's limits are budget ÷ token size.
 */
export const IP_EVENTS_PER_MINUTE = 10_000;
export const PROPERTY_EVENTS_PER_MINUTE = 200_000;
export const IP_TOKEN_EVENTS = 100;
export const PROPERTY_TOKEN_EVENTS = 500;
