/** Helpers for workerd tests: requests to the Worker, properties created through the admin API. */
import { exports } from "cloudflare:workers";
import { TEST_ADMIN_TOKEN } from "../support/admin.ts";

export const ADMIN = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

export function call(path: string, init: RequestInit & { cf?: Record<string, unknown> } = {}): Promise<Response> {
  return exports.default.fetch(new Request(`http://tally.test${path}`, init));
}

export interface CreatedProperty {
  property_id: string;
  api_key: string;
  key_id: string;
  mp_api_secret: string;
  domains: string[];
}

/** Creates a property through the admin API (the only way one comes to exist). */
export async function createProperty(body: Record<string, unknown>): Promise<CreatedProperty> {
  const res = await call("/api/v1/properties", {
    method: "POST",
    headers: { ...ADMIN, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "Test site", domains: ["example.com"], ...body }),
  });
  if (res.status !== 201) throw new Error(`property creation failed: ${res.status} ${await res.text()}`);
  return res.json<CreatedProperty>();
}

export async function envelope(res: Response) {
  return res.json<{ error: { code: string; message: string; status: number } }>();
}
