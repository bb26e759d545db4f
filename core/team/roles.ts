/**
 * Who may do what on a property. People hold one role per property (`owner` ⊃ `admin` ⊃ `editor` ⊃
 * `viewer`); API keys hold a role too, but never the capabilities that hand out access (`people`,
 * `own`): a leaked machine key cannot mint keys, invite, or share. A shared link or a public
 * dashboard only reads. The admin token (bootstrap and automation) may do everything, including the
 * deployment-wide operations no property role reaches (`operate`).
 */
export const ROLES = ["viewer", "editor", "admin", "owner"] as const;
export type Role = (typeof ROLES)[number];

/**
 * - `view`: the reports a dashboard shows — queries, realtime, goals, funnels, saved reports,
 *   annotations. All a shared link or a public dashboard reaches.
 * - `read`: everything a member may see besides: the property's settings, alert rules (their
 *   webhook), the bot audit (raw user agents), data quality.
 * - `write`: saved reports, segments, funnels, goals, annotations, alert rules, digests, imports.
 * - `manage`: the property's settings, erasures and exports, the audit log.
 * - `people`: members, invitations, API keys, shared links, the public switch and embedding.
 * - `own`: owners (granting or removing one) and deleting the property.
 * - `operate`: the deployment (properties list, dead letters, replay, warehouse, metrics): admin token only.
 */
export const CAPABILITIES = ["view", "read", "write", "manage", "people", "own", "operate"] as const;
export type Capability = (typeof CAPABILITIES)[number];

const ROLE_CAPABILITIES: Record<Role, readonly Capability[]> = {
  viewer: ["view", "read"],
  editor: ["view", "read", "write"],
  admin: ["view", "read", "write", "manage", "people"],
  owner: ["view", "read", "write", "manage", "people", "own"],
};

/** Who a request acts as, once its credential has been checked for one property. */
export type Principal =
  | { kind: "admin" }
  | { kind: "key"; key_id: string; role: Role }
  | { kind: "account"; email: string; role: Role }
  | { kind: "share"; share_id: string }
  | { kind: "public" };

export function capabilitiesOf(principal: Principal): ReadonlySet<Capability> {
  switch (principal.kind) {
    case "admin":
      return new Set(CAPABILITIES);
    case "account":
      return new Set(ROLE_CAPABILITIES[principal.role]);
    case "key":
      return new Set(ROLE_CAPABILITIES[principal.role].filter((c) => c !== "people" && c !== "own"));
    case "share":
    case "public":
      return new Set(["view"]);
  }
}

export function allows(principal: Principal, capability: Capability): boolean {
  return capabilitiesOf(principal).has(capability);
}

export const roleRank = (role: Role): number => ROLES.indexOf(role);

/** Whether this principal may give (or take away) `role`: owners any, admins up to admin. */
export function mayGrant(principal: Principal, role: Role): boolean {
  if (principal.kind === "admin") return true;
  if (!allows(principal, "people")) return false;
  return role === "owner" ? allows(principal, "own") : true;
}

/** The audit log's name for who acted: never a secret, never an address. */
export function actorOf(principal: Principal): string {
  switch (principal.kind) {
    case "admin":
      return "admin token";
    case "key":
      return `key ${principal.key_id}`;
    case "account":
      return principal.email;
    case "share":
      return `shared link ${principal.share_id}`;
    case "public":
      return "public dashboard";
  }
}
