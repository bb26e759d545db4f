/**
 * What `npm run dev` (scripts/dev.ts) sets up beside the servers: the admin token in .dev.vars, and
 * the demo property once the Worker answers.
 */
import { readFileSync, writeFileSync } from "node:fs";

/** The Worker refuses a shorter ADMIN_TOKEN (core/config.ts). */
const MIN_ADMIN_TOKEN = 32;

/**
 * ADMIN_TOKEN from the environment, else the one in .dev.vars, else a new one. It is written to
 * .dev.vars because wrangler gives .dev.vars precedence over `--var` for secrets.
 */
export function ensureAdminToken(): string {
  const vars = readFileSync(".dev.vars", "utf8");
  const existing = /^ADMIN_TOKEN=(\S+)$/m.exec(vars)?.[1];
  const given = process.env.ADMIN_TOKEN;
  if (given && given.length < MIN_ADMIN_TOKEN)
    throw new Error(
      `ADMIN_TOKEN must be at least ${MIN_ADMIN_TOKEN} random characters (or unset it: one is generated)`,
    );
  // A token kept from before the 32-character minimum (#17) would make every request a 500: replace it.
  const kept = existing && existing.length >= MIN_ADMIN_TOKEN ? existing : undefined;
  if (existing && !kept)
    console.log("The ADMIN_TOKEN in .dev.vars is shorter than 32 characters; a new one replaces it.");
  const token = given || kept || `adm_${crypto.randomUUID().replaceAll("-", "")}`;
  if (token !== existing) {
    const without = vars.replace(/^ADMIN_TOKEN=.*\n?/m, "");
    writeFileSync(
      ".dev.vars",
      `${without}${without.endsWith("\n") || without === "" ? "" : "\n"}ADMIN_TOKEN=${token}\n`,
    );
  }
  return token;
}

/** Waits for the Worker, then creates UA-DEMO-1 on first start; says what happened. */
export async function ensureDemoProperty(base: string, token: string): Promise<string> {
  const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
  for (let i = 0; i < 600; i++) {
    const ok = await fetch(`${base}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const existing = await fetch(`${base}/api/v1/properties/UA-DEMO-1`, { headers });
  if (existing.ok) return "(exists; its API key was printed when it was created)";
  const res = await fetch(`${base}/api/v1/properties`, {
    method: "POST",
    headers,
    body: JSON.stringify({ property_id: "UA-DEMO-1", name: "Demo", domains: ["localhost", "example.com"] }),
  });
  if (!res.ok) return `(could not be created: ${res.status} ${await res.text()})`;
  const created = (await res.json()) as { api_key: string; mp_api_secret: string };
  return `created — API key ${created.api_key} (shown once), GA4 api_secret ${created.mp_api_secret}`;
}
