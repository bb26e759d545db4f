/**
 * Demo traffic for the demo property, so every dashboard module has something to show:
 * - history: `historyDays` of visits imported through `POST /api/v1/import` (NDJSON; import may
 *   carry geography, which public endpoints take only from Cloudflare's edge — a placeholder under
 *   `wrangler dev`), skipped when the property already has history;
 * - goals: Signup (event), Pricing viewed (page), Docs reader (page pattern), Purchase (event, with
 *   revenue), created if missing; every page view ends with the tracker's engagement ping;
 * - live: a steady trickle of visits through `POST /collect`, as browsers send them (a browser user
 *   agent — Node's own would be filtered as a bot), plus the odd crawler for the bot report.
 *
 * `npm run demo` (or `npm run dev -- --demo`) runs it once the stack is up; alone:
 *   node scripts/demo/traffic.ts [--url http://localhost:8787] [--days 30] [--no-live]
 * with ADMIN_TOKEN from the environment or .dev.vars. The visits are random but seeded.
 */

import { existsSync, readFileSync } from "node:fs";
import { type DemoEvent, historyLines, newVisitor, oneOf, seeded, visitEvents } from "./model.ts";
import { BOT_AGENTS, SITE } from "./tables.ts";

export * from "./model.ts";

interface Target {
  url: string;
  token: string;
  propertyId: string;
}

/**
 * A request to the stack, retried a few times when the Worker is momentarily unavailable:
 * `wrangler dev` restarts it whenever a source file changes, answering 503 meanwhile.
 */
async function call(t: Target, path: string, init: RequestInit = {}): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${t.url}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${t.token}`, "Content-Type": "application/json", ...init.headers },
    }).catch((error: unknown) => {
      if (attempt >= 5) throw error;
      return undefined;
    });
    if (res && (res.status !== 503 || attempt >= 5)) return res;
    await res?.body?.cancel();
    await new Promise((r) => setTimeout(r, 2_000 * attempt));
  }
}

export const DEMO_GOALS = [
  { name: "Signup", kind: "event", event_name: "signup" },
  { name: "Pricing viewed", kind: "page", page_path: "/pricing" },
  { name: "Docs reader", kind: "page", page_path: "/docs/**" },
  { name: "Purchase", kind: "event", event_name: "purchase" },
] as const;

/** Creates the demo goals that are missing. */
export async function ensureGoals(t: Target): Promise<number> {
  const base = `/api/v1/properties/${encodeURIComponent(t.propertyId)}/goals`;
  const res = await call(t, base);
  if (!res.ok) throw new Error(`goals: ${res.status} ${await res.text()}`);
  const { goals } = (await res.json()) as { goals: { name: string }[] };
  let added = 0;
  for (const goal of DEMO_GOALS) {
    if (goals.some((g) => g.name.toLowerCase() === goal.name.toLowerCase())) continue;
    const created = await call(t, base, { method: "POST", body: JSON.stringify(goal) });
    if (created.ok) added++;
  }
  return added;
}

/** Whether the property already has events before today (then history is not imported twice). */
async function hasHistory(t: Target): Promise<boolean> {
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  const from = new Date(Date.now() - 89 * 86_400_000).toISOString().slice(0, 10);
  const res = await call(t, "/api/v1/query", {
    method: "POST",
    body: JSON.stringify({
      property_id: t.propertyId,
      metrics: ["events"],
      date_range: [from, yesterday],
      include: { bots: true },
    }),
  });
  if (!res.ok) return false;
  const body = (await res.json()) as { results: { metrics: number[] }[] };
  return (body.results[0]?.metrics[0] ?? 0) > 0;
}

/**
 * Imports history in requests of 1,000 lines, a second apart, so the consumer writes it in modest
 * batches rather than one burst; answers how many events were accepted and refused.
 */
export async function importHistory(
  t: Target,
  options: { days: number; visitsPerDay: number; endMs?: number; seed?: number },
): Promise<{ accepted: number; rejected: number }> {
  const lines = historyLines({ ...options, endMs: options.endMs ?? Date.now() - 2 * 3_600_000 });
  const tally = { accepted: 0, rejected: 0 };
  for (let i = 0; i < lines.length; i += 1_000) {
    if (i > 0) await new Promise((r) => setTimeout(r, 1_000));
    const res = await call(t, `/api/v1/import?property=${encodeURIComponent(t.propertyId)}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-ndjson" },
      body: `${lines.slice(i, i + 1_000).join("\n")}\n`,
    });
    if (!res.ok) throw new Error(`import: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { accepted: number; rejected: number };
    tally.accepted += body.accepted;
    tally.rejected += body.rejected;
  }
  return tally;
}

/** Sends one event to /collect the way a browser's tracker would (no geography: the edge decides). */
export async function sendLive(url: string, propertyId: string, event: DemoEvent): Promise<boolean> {
  const { country: _c, region: _r, city: _ci, ...body } = event;
  const res = await fetch(`${url}/collect`, {
    method: "POST",
    headers: { "Content-Type": "text/plain", "User-Agent": event.user_agent },
    body: JSON.stringify({ ...body, property_id: propertyId }),
  });
  await res.body?.cancel();
  return res.status === 202;
}

export interface LiveTraffic {
  stop(): Promise<void>;
  /** Events accepted so far. */
  sent(): number;
}

/**
 * A trickle of live visits: visitors arrive every few seconds and walk the site, each pageview sent
 * when it happens (so Real-time shows people arriving, browsing and leaving), with an occasional crawler.
 */
export function startLiveTraffic(options: {
  url: string;
  propertyId: string;
  seed?: number;
  meanGapMs?: number;
}): LiveTraffic {
  const rand = seeded(options.seed ?? Date.now());
  const gap = options.meanGapMs ?? 2_500;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;
  let accepted = 0;
  const later = (ms: number, work: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!stopped) work();
    }, ms);
    timers.add(timer);
  };
  const send = (event: DemoEvent) => {
    const p = sendLive(options.url, options.propertyId, event).then(
      (ok) => {
        if (ok) accepted++;
      },
      () => undefined,
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  const arrive = () => {
    const events = visitEvents(rand, newVisitor(rand), Date.now(), false);
    // Replay the visit in real time, ten times faster than a person reads.
    const t0 = Date.parse(events[0]?.event_timestamp ?? "");
    for (const e of events) {
      const delay = (Date.parse(e.event_timestamp) - t0) / 10;
      later(delay, () => send({ ...e, event_timestamp: new Date().toISOString() }));
    }
    if (rand() < 0.05)
      send({
        event_type: "pageview",
        page_url: `${SITE}/`,
        client_id: `bot-${Math.floor(rand() * 1e9).toString(36)}`,
        event_timestamp: new Date().toISOString(),
        user_agent: oneOf(rand, BOT_AGENTS),
      });
    later(gap * (0.3 + rand() * 1.4), arrive);
  };
  arrive();
  return {
    sent: () => accepted,
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await Promise.allSettled([...inFlight]);
    },
  };
}

/** Everything `npm run demo` does once the stack answers: goals, history (once), then live traffic. */
export async function runDemo(options: {
  url: string;
  token: string;
  propertyId?: string;
  days?: number;
  visitsPerDay?: number;
  live?: boolean;
  log?: (line: string) => void;
}): Promise<LiveTraffic | undefined> {
  const t: Target = { url: options.url, token: options.token, propertyId: options.propertyId ?? "UA-DEMO-1" };
  const log = options.log ?? console.log;
  const added = await ensureGoals(t);
  if (added) log(`demo: created ${added} goals`);
  if (await hasHistory(t)) log("demo: history already imported; not importing it again");
  else {
    const days = options.days ?? 30;
    const result = await importHistory(t, { days, visitsPerDay: options.visitsPerDay ?? 140 });
    log(`demo: imported ${days} days of history (${result.accepted} events accepted, ${result.rejected} refused)`);
  }
  if (options.live === false) return undefined;
  log("demo: sending live traffic to /collect (a visitor every few seconds)");
  return startLiveTraffic({ url: t.url, propertyId: t.propertyId });
}

function adminTokenFromDevVars(): string | undefined {
  if (!existsSync(".dev.vars")) return undefined;
  return /^ADMIN_TOKEN=(\S+)$/m.exec(readFileSync(".dev.vars", "utf8"))?.[1];
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const url = flag("--url") ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
  const token = process.env.ADMIN_TOKEN || adminTokenFromDevVars();
  if (!token) {
    console.error("No admin token: set ADMIN_TOKEN or run `npm run dev` once (it writes .dev.vars).");
    process.exit(1);
  }
  const live = await runDemo({ url, token, days: Number(flag("--days") ?? 30), live: !args.includes("--no-live") });
  if (live) {
    const stop = () => void live.stop().then(() => process.exit(0));
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  }
}
