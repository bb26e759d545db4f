/**
 * A TeamDO's people: members under "members" (email → Member, at most MAX_MEMBERS) and pending
 * invitations under "invite:<id>" (the token's hash, the email and role it grants, 7 days). A
 * property always keeps an owner once it has one: the last owner can be neither demoted nor removed.
 */
import { digestsEqual } from "../core/property/keys.ts";
import type { Role } from "../core/team/roles.ts";
import type { Invitation, Member } from "../core/team/schemas.ts";
import { INVITATION_TTL_MS, newToken, readToken } from "../core/team/tokens.ts";

export const MAX_MEMBERS = 500;
interface StoredInvitation extends Invitation {
  hash: string;
}

export async function readMembers(storage: DurableObjectStorage): Promise<Record<string, Member>> {
  return (await storage.get<Record<string, Member>>("members")) ?? {};
}

export async function pendingInvitations(storage: DurableObjectStorage, now: number): Promise<Invitation[]> {
  const stored = await storage.list<StoredInvitation>({ prefix: "invite:" });
  return [...stored.values()]
    .filter((i) => i.expires_at > now)
    .map(({ hash: _, ...invitation }) => invitation)
    .sort((a, b) => a.created_at - b.created_at);
}

export async function invite(
  storage: DurableObjectStorage,
  email: string,
  role: Role,
  by: string,
  now: number,
): Promise<{ invitation: Invitation; token: string } | "member" | "full"> {
  const members = await readMembers(storage);
  if (members[email]) return "member";
  if (Object.keys(members).length >= MAX_MEMBERS) return "full";
  const token = await newToken("inv");
  const invitation: Invitation = {
    invitation_id: token.id,
    email,
    role,
    created_at: now,
    created_by: by,
    expires_at: now + INVITATION_TTL_MS,
  };
  await storage.put<StoredInvitation>(`invite:${token.id}`, { ...invitation, hash: token.hash });
  return { invitation, token: token.token };
}

/** The invitation a token opens, if it is still pending. */
export async function lookup(
  storage: DurableObjectStorage,
  token: string,
  now: number,
): Promise<Invitation | undefined> {
  const presented = await readToken("inv", token);
  if (!presented) return undefined;
  const stored = await storage.get<StoredInvitation>(`invite:${presented.id}`);
  if (!stored || stored.expires_at <= now || !digestsEqual(stored.hash, presented.hash)) return undefined;
  const { hash: _, ...invitation } = stored;
  return invitation;
}

/** Uses the invitation up: its email becomes a member with its role (a member already keeps the higher role). */
export async function accept(
  storage: DurableObjectStorage,
  token: string,
  email: string,
  now: number,
): Promise<Member | "wrong_email" | undefined> {
  const invitation = await lookup(storage, token, now);
  if (!invitation) return undefined;
  if (invitation.email !== email) return "wrong_email";
  const members = await readMembers(storage);
  const existing = members[email];
  const member: Member = existing ?? { email, role: invitation.role, added_at: now, added_by: invitation.created_by };
  members[email] = member;
  await storage.put("members", members);
  await storage.delete(`invite:${invitation.invitation_id}`);
  return member;
}

export async function revokeInvitation(storage: DurableObjectStorage, id: string): Promise<Invitation | undefined> {
  const stored = await storage.get<StoredInvitation>(`invite:${id}`);
  if (!stored) return undefined;
  await storage.delete(`invite:${id}`);
  const { hash: _, ...invitation } = stored;
  return invitation;
}

const owners = (members: Record<string, Member>) => Object.values(members).filter((m) => m.role === "owner").length;

/** Changes a member's role (null: removes them). */
export async function setRole(
  storage: DurableObjectStorage,
  email: string,
  role: Role | null,
): Promise<{ before: Member } | "not_member" | "last_owner"> {
  const members = await readMembers(storage);
  const before = members[email];
  if (!before) return "not_member";
  if (before.role === "owner" && role !== "owner" && owners(members) === 1) return "last_owner";
  if (role) members[email] = { ...before, role };
  else delete members[email];
  await storage.put("members", members);
  return { before };
}
