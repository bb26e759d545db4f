/**
 * Import's bounds in workerd: a declared body past MAX_IMPORT_BYTES is refused before a line is
 * read, and a property importing past its budget (the test limiter: one token a minute, one token
 * per IMPORT_TOKEN_LINES lines) gets 429 with Retry-After, told how many events were accepted before it.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { IMPORT_TOKEN_LINES, MAX_IMPORT_BYTES, takeImportBudget } from "../../workers/import/limits.ts";
import { type CreatedProperty, call, createProperty, envelope, YESTERDAY_10H } from "./helpers.ts";

const run = crypto.randomUUID().slice(0, 8);
let p: CreatedProperty;

const line = (n: number) =>
  JSON.stringify({
    event_id: `${run}-${n}`,
    client_id: `${run}-c${n % 50}`,
    event_type: "pageview",
    page_url: `https://example.com/p${n % 7}`,
    event_timestamp: YESTERDAY_10H + n,
  });

const importBody = (body: BodyInit, headers: Record<string, string> = {}) =>
  call(`/api/v1/import?property=${p.property_id}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${p.api_key}`, "Content-Type": "application/x-ndjson", ...headers },
    body,
  });

beforeAll(async () => {
  p = await createProperty({ property_id: `IL-${run}` });
});

describe("import bounds", () => {
  it("refuses a body declared larger than MAX_IMPORT_BYTES with 413 before reading it", async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(`${line(0)}\n`));
        controller.close();
      },
    });
    const res = await importBody(body, { "Content-Length": String(MAX_IMPORT_BYTES + 1) });
    expect(res.status).toBe(413);
    expect((await envelope(res)).error).toMatchObject({
      code: "payload_too_large",
      message: expect.stringContaining(`body: exceeds ${MAX_IMPORT_BYTES} bytes`),
    });
  });

  it("answers 429 with Retry-After once the property's import budget is spent, counting what was accepted", async () => {
    // The test limiter grants one token a minute: the first block of lines takes it, the next line needs another.
    const lines = Array.from({ length: IMPORT_TOKEN_LINES + 1 }, (_, i) => line(i + 1));
    // The queue is not what is tested: its sends succeed at once, and no consumer runs.
    const send = vi.spyOn(env.EVENTS_QUEUE, "sendBatch").mockImplementation(async () => ({}) as never);
    const res = await importBody(`${lines.join("\n")}\n`).finally(() => send.mockRestore());
    expect(res.status).toBe(429);
    expect(res.headers.get("Retry-After")).toBe("60");
    const { error } = await envelope(res);
    expect(error.code).toBe("rate_limited");
    expect(error.message).toContain(`${IMPORT_TOKEN_LINES} events before it were accepted`);
  });

  it("keeps other properties' import budgets apart", async () => {
    const other = `IL2-${run}`;
    // A fresh key: its first block's token is granted even though the property above spent its own.
    await expect(takeImportBudget(env.PROPERTY_RATE_LIMITER, other, 10)).resolves.toBeUndefined();
    await expect(takeImportBudget(env.PROPERTY_RATE_LIMITER, other, IMPORT_TOKEN_LINES)).rejects.toMatchObject({
      status: 429,
    });
  });
});
