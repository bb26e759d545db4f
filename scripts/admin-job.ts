/**
 * What the job CLIs (`npm run replay`, `npm run warehouse:load`) share: the admin token, one call
 * to a job's admin route, and drawing its progress until it ends. The jobs run in the Worker, next
 * to the archive; these scripts are clients of `POST`/`GET <route>`.
 */
import { existsSync, readFileSync } from "node:fs";
import type { z } from "zod";

/** ADMIN_TOKEN from the environment, else from the .dev.vars `npm run dev` writes. */
export function adminToken(): string {
  if (process.env.ADMIN_TOKEN) return process.env.ADMIN_TOKEN;
  const vars = existsSync(".dev.vars") ? readFileSync(".dev.vars", "utf8") : "";
  const token = /^ADMIN_TOKEN=(.+)$/m.exec(vars)?.[1]?.trim();
  if (!token) throw new Error("set ADMIN_TOKEN (or run `npm run dev` once, which writes it to .dev.vars)");
  return token;
}

/** A client of one job route: POST starts the job, GET reports it; the answer parsed by `schema`. */
export function jobRoute<S extends z.ZodType<{ state: string }>>(url: string, schema: S) {
  const headers = { Authorization: `Bearer ${adminToken()}`, "Content-Type": "application/json" };
  return async (method: "GET" | "POST", body?: unknown): Promise<z.infer<S>> => {
    const res = await fetch(url, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) });
    const json = (await res.json()) as { error?: { message: string } };
    if (!res.ok) throw new Error(`${res.status}: ${json.error?.message ?? JSON.stringify(json)}`);
    return schema.parse(json);
  };
}

/** Polls while the job runs, drawing `bar` (in place on a terminal); returns the final status and the seconds it took. */
export async function follow<T extends { state: string }>(
  first: T,
  next: () => Promise<T>,
  bar: (status: T) => string,
): Promise<{ status: T; seconds: number }> {
  const started = Date.now();
  const tty = process.stderr.isTTY;
  let status = first;
  while (status.state === "running") {
    process.stderr.write(tty ? `\r${bar(status)}` : `${bar(status)}\n`);
    await new Promise((r) => setTimeout(r, tty ? 250 : 2_000));
    status = await next();
  }
  process.stderr.write(`${tty ? "\r" : ""}${bar(status)}\n`);
  return { status, seconds: (Date.now() - started) / 1000 };
}

/** `[#####-----]`: a fraction of `width` characters. */
export function progress(done: number, total: number, width = 30): string {
  const filled = Math.round((total ? done / total : 1) * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}
