/**
 * AccountDO: one person, found by email (`idFromName`), reached again by the id its session cookie
 * carries. It keeps the password's hash (core/team/password.ts), the sessions (hashes only, 30
 * days), an index of the person's properties (each TeamDO holds the truth about its members), and the
 * sign-in limit: 10 wrong passwords in a row lock the account for 15 minutes, whatever the address
 * (the edge also limits failures per address, platform/throttle.ts).
 */
import { DurableObject } from "cloudflare:workers";
import { digestsEqual } from "../core/property/keys.ts";
import { hashPassword, verifyPassword } from "../core/team/password.ts";
import type { Role } from "../core/team/roles.ts";
import type { Me } from "../core/team/schemas.ts";
import { newToken, readToken, SESSION_TTL_MS } from "../core/team/tokens.ts";
import { Serial } from "./serial.ts";

interface Account {
  email: string;
  name: string;
  password_hash: string;
  created_at: number;
}
interface Session {
  hash: string;
  created_at: number;
  expires_at: number;
}
interface Failures {
  count: number;
  locked_until: number;
}

export const LOCK_AFTER_FAILURES = 10;
export const LOCK_MS = 15 * 60_000;
/** Verified against when there is no account, so an unknown email costs the same time as a wrong password. */
const DUMMY_HASH = "pbkdf2-sha256$100000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

/** What a password check found: a new session's token, or why not. */
export type SignInOutcome =
  | { ok: true; token: string }
  | { ok: false; reason: "invalid" }
  | { ok: false; reason: "locked"; retry_after_s: number };

export class AccountDO extends DurableObject<Env> {
  /** Changes go one at a time (durable-objects/serial.ts): the memberships and the failure count are read and written back. */
  readonly #serial = new Serial();

  async exists(): Promise<boolean> {
    return (await this.ctx.storage.get<Account>("account")) !== undefined;
  }

  /** Creates the account unless it exists (then nothing changes: the caller checks its password). */
  async create(email: string, name: string, password: string, now: number): Promise<"created" | "exists"> {
    return this.#serial.run(async () => {
      if (await this.exists()) return "exists";
      const account: Account = { email, name, password_hash: await hashPassword(password), created_at: now };
      await this.ctx.storage.put("account", account);
      return "created";
    });
  }

  /** Checks the password (counting failures) and, when right, opens a session. */
  async signIn(password: string, now: number): Promise<SignInOutcome> {
    return this.#serial.run(async () => {
      const failures = (await this.ctx.storage.get<Failures>("failures")) ?? { count: 0, locked_until: 0 };
      if (failures.locked_until > now)
        return { ok: false, reason: "locked", retry_after_s: Math.ceil((failures.locked_until - now) / 1000) };
      const account = await this.ctx.storage.get<Account>("account");
      const right = await verifyPassword(password, account?.password_hash ?? DUMMY_HASH);
      if (!account || !right) {
        // No account, no counter: a stranger's guesses at unknown emails create nothing to store.
        if (!account) return { ok: false, reason: "invalid" };
        const count = failures.count + 1;
        await this.ctx.storage.put("failures", {
          count: count >= LOCK_AFTER_FAILURES ? 0 : count,
          locked_until: count >= LOCK_AFTER_FAILURES ? now + LOCK_MS : 0,
        });
        return { ok: false, reason: "invalid" };
      }
      if (failures.count > 0) await this.ctx.storage.delete("failures");
      const session = await newToken("ses");
      await this.ctx.storage.put<Session>(`session:${session.id}`, {
        hash: session.hash,
        created_at: now,
        expires_at: now + SESSION_TTL_MS,
      });
      await this.#prune(now);
      return { ok: true, token: session.token };
    });
  }

  /** The person behind a session token, or undefined (unknown, signed out, or expired). */
  async session(token: string, now: number): Promise<{ email: string; name: string } | undefined> {
    const presented = await readToken("ses", token);
    if (!presented) return undefined;
    const [session, account] = await Promise.all([
      this.ctx.storage.get<Session>(`session:${presented.id}`),
      this.ctx.storage.get<Account>("account"),
    ]);
    if (!session || !account || session.expires_at <= now || !digestsEqual(session.hash, presented.hash))
      return undefined;
    return { email: account.email, name: account.name };
  }

  async signOut(token: string): Promise<void> {
    const presented = await readToken("ses", token);
    if (presented) await this.ctx.storage.delete(`session:${presented.id}`);
  }

  /** Ends every session of the account ("sign out everywhere"); returns how many there were. */
  async signOutEverywhere(): Promise<number> {
    const sessions = await this.ctx.storage.list({ prefix: "session:" });
    await this.ctx.storage.delete([...sessions.keys()]);
    return sessions.size;
  }

  async me(): Promise<Me | undefined> {
    const account = await this.ctx.storage.get<Account>("account");
    if (!account) return undefined;
    const memberships = (await this.ctx.storage.get<Record<string, Role>>("memberships")) ?? {};
    const properties = Object.entries(memberships)
      .map(([property_id, role]) => ({ property_id, role }))
      .sort((a, b) => a.property_id.localeCompare(b.property_id));
    return { email: account.email, name: account.name, properties };
  }

  /** Keeps the index of the person's properties in step with the TeamDOs (null: no longer a member). */
  async setMembership(propertyId: string, role: Role | null): Promise<void> {
    return this.#serial.run(async () => {
      const memberships = (await this.ctx.storage.get<Record<string, Role>>("memberships")) ?? {};
      if (role) memberships[propertyId] = role;
      else delete memberships[propertyId];
      await this.ctx.storage.put("memberships", memberships);
    });
  }

  /** Expired sessions go when a new one opens: the list stays the size of the person's devices. */
  async #prune(now: number): Promise<void> {
    const sessions = await this.ctx.storage.list<Session>({ prefix: "session:" });
    const expired = [...sessions].filter(([, s]) => s.expires_at <= now).map(([k]) => k);
    if (expired.length > 0) await this.ctx.storage.delete(expired);
  }
}
