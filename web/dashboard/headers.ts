/**
 * The dashboard's protective headers, written by the build as `dist/_headers`: Workers Static
 * Assets apply that file to the files they serve, which never pass through the Worker (its own
 * answers get theirs from workers/security-headers.ts).
 *
 * The CSP allows scripts only from the origin plus each inline script of index.html by its SHA-256,
 * computed from the built page, so an edit to the inline script cannot leave a stale hash behind.
 */
import { createHash } from "node:crypto";

/** The text of every inline (src-less) script in a page, exactly as the browser hashes it. */
export function inlineScripts(html: string): string[] {
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
  return scripts.filter(([, attributes]) => !/\bsrc\s*=/i.test(attributes ?? "")).map(([, , body]) => body ?? "");
}

/** A CSP source for a script's text: `'sha256-<base64>'`. */
export function scriptHashSource(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

/**
 * The dashboard's CSP: its own scripts, styles and API only (`'self'` covers the same-origin ws:/wss:
 * socket), the icon as a data: image, never framed, no plugins, no `<base>`.
 */
export function dashboardCsp(html: string): string {
  const hashes = inlineScripts(html).map(scriptHashSource);
  return [
    "default-src 'self'",
    ["script-src 'self'", ...hashes].join(" "),
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** The `_headers` file: one rule for every asset and the SPA's fallback page. */
export function dashboardHeadersFile(html: string): string {
  const headers = {
    "Content-Security-Policy": dashboardCsp(html),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
  };
  const lines = Object.entries(headers).map(([name, value]) => `  ${name}: ${value}`);
  return ["# Written by the build (web/dashboard/headers.ts); edits here are lost.", "/*", ...lines, ""].join("\n");
}
