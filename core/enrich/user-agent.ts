/**
 * Browser, OS and device type from a user agent (ua-parser-js 1.x, MIT), refined by User-Agent
 * Client Hints when the browser sent them. Most traffic repeats a few thousand UAs, so results
 * sit in a bounded LRU cache per isolate.
 */
// ua-parser-js 1.x is a UMD module: its default export is the constructor in Node, workerd and bundlers alike.
import UAParser from "ua-parser-js";
import { LruCache } from "./lru.ts";

export const DEVICE_TYPES = ["desktop", "mobile", "tablet", "tv", "bot", "other"] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

export interface UserAgentInfo {
  browser: string;
  browser_version: string;
  os: string;
  os_version: string;
  device_type: DeviceType;
}

/** Client hints as request headers carry them (`Sec-CH-UA-Mobile: ?1`, `Sec-CH-UA-Platform: "Android"`). */
export interface ClientHints {
  mobile?: string | null;
  platform?: string | null;
  platformVersion?: string | null;
}

export const userAgentCache = new LruCache<string, UserAgentInfo>(5_000);

function deviceType(parsedType: string | undefined, osName: string): DeviceType {
  switch (parsedType) {
    case "mobile":
    case "wearable":
      return "mobile";
    case "tablet":
      return "tablet";
    case "smarttv":
      return "tv";
    case "console":
    case "embedded":
    case "xr":
      return "other";
    default:
      return osName === "" ? "other" : "desktop";
  }
}

function parse(ua: string): UserAgentInfo {
  const result = new UAParser(ua).getResult();
  const os = result.os.name ?? "";
  return {
    browser: result.browser.name ?? "",
    browser_version: result.browser.major ?? "",
    os,
    os_version: result.os.version ?? "",
    device_type: deviceType(result.device.type, os),
  };
}

const unquote = (v: string) => v.replace(/^"|"$/g, "");

/** Parses a UA (cached); hints, when present, correct what frozen UA strings hide. */
export function parseUserAgent(ua: string, hints: ClientHints = {}): UserAgentInfo {
  const info =
    ua === ""
      ? { browser: "", browser_version: "", os: "", os_version: "", device_type: "other" as const }
      : userAgentCache.getOrCompute(ua, parse);
  if (!hints.mobile && !hints.platform) return info;
  const refined = { ...info };
  if (hints.mobile === "?1" && refined.device_type === "desktop") refined.device_type = "mobile";
  if (hints.platform) refined.os = unquote(hints.platform) === "macOS" ? "Mac OS" : unquote(hints.platform);
  if (hints.platformVersion) refined.os_version = unquote(hints.platformVersion);
  return refined;
}
