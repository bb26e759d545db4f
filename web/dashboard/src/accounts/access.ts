/**
 * What the caller may do on a property, asked once per property and credential
 * (`GET /api/v1/properties/:id/access`), so the dashboard shows only what the role allows.
 */
import { useMemo } from "react";
import type { Access, Capability } from "../api.ts";
import { api, notAvailable, SESSION } from "../api.ts";
import { type Loaded, useApi } from "../use-api.ts";

export type Grant = Pick<Access, "principal" | "role" | "capabilities">;

const EVERYTHING: Capability[] = ["view", "read", "write", "manage", "people", "own", "operate"];

/** A server from before roles (no `/access`): the admin token could do everything, a key all but the deployment. */
function olderServer(admin: boolean): Grant {
  return admin
    ? { principal: "admin", role: null, capabilities: EVERYTHING }
    : { principal: "key", role: "admin", capabilities: ["view", "read", "write", "manage"] };
}

/** The admin token's grant without asking (the page for a deployment without properties). */
export const ADMIN_GRANT: Grant = olderServer(true);

/**
 * The caller's grant on `property`. `who` names the credential (an account's email, or the end of a
 * key), so a sign-in as someone else asks again instead of reusing the answer.
 */
export function useAccess(property: string, token: string, who: string, admin: boolean): Loaded<Grant> {
  const path = `/api/v1/properties/${encodeURIComponent(property)}/access`;
  return useApi(`access:${property}:${token === SESSION ? "session" : "token"}:${who}`, (signal) =>
    api<Access>(token, path, { signal }).catch((error: unknown) => {
      if (notAvailable(error)) return olderServer(admin);
      throw error;
    }),
  );
}

/** The grant's capabilities as a set that keeps its identity while the grant does (modules use it in effects). */
export function useCapabilitySet(grant: Grant | undefined): ReadonlySet<Capability> {
  return useMemo(() => new Set(grant?.capabilities ?? []), [grant]);
}
