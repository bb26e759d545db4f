/**
 * TeamDO: one per property, what its people share, apart from PropertyDO so that nothing here
 * waits behind the live counters' commits: members and invitations (team-members.ts), shared
 * links (team-shares.ts), saved reports, segments, annotations and digests (team-notes.ts), and
 * the audit log (team-audit.ts). The routes (workers/team/) check roles before calling; this
 * actor trusts its callers and keeps the invariants (one owner at least, bounded lists).
 */
import { DurableObject } from "cloudflare:workers";
import type { Role } from "../core/team/roles.ts";
import type {
  Annotation,
  AnnotationRequest,
  AuditEntry,
  Digest,
  DigestRequest,
  Invitation,
  Member,
  Share,
  StoredSavedItem,
} from "../core/team/schemas.ts";
import { loadConfig } from "../platform/config.ts";
import { Serial } from "./serial.ts";
import { type AuditInput, appendAudit, ensureAuditTable, readAudit } from "./team-audit.ts";
import * as members from "./team-members.ts";
import * as notes from "./team-notes.ts";
import * as shares from "./team-shares.ts";

export type { AuditInput } from "./team-audit.ts";

type SavedInput = Parameters<typeof notes.addSaved>[1];

export class TeamDO extends DurableObject<Env> {
  /** Every change goes through here (durable-objects/serial.ts): lists are read, changed and written back. */
  readonly #serial = new Serial();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ensureAuditTable(ctx.storage.sql);
  }

  /** Appends to the audit log. */
  async audit(entry: AuditInput, now: number): Promise<void> {
    appendAudit(this.ctx.storage.sql, entry, now, loadConfig(this.env).ARCHIVE_RETENTION_DAYS);
  }

  async auditLog(limit: number, before?: number, action?: string): Promise<AuditEntry[]> {
    return readAudit(this.ctx.storage.sql, { limit, before, action });
  }

  // ─── people ───────────────────────────────────────────────────────────────────────────────────

  async members(now: number): Promise<{ members: Member[]; invitations: Invitation[] }> {
    const all = Object.values(await members.readMembers(this.ctx.storage));
    return {
      members: all.sort((a, b) => a.email.localeCompare(b.email)),
      invitations: await members.pendingInvitations(this.ctx.storage, now),
    };
  }

  async role(email: string): Promise<Role | undefined> {
    return (await members.readMembers(this.ctx.storage))[email]?.role;
  }

  async invite(email: string, role: Role, by: string, now: number): ReturnType<typeof members.invite> {
    return this.#serial.run(async () => {
      return members.invite(this.ctx.storage, email, role, by, now);
    });
  }

  async invitation(token: string, now: number): Promise<Invitation | undefined> {
    return members.lookup(this.ctx.storage, token, now);
  }

  async acceptInvitation(token: string, email: string, now: number): ReturnType<typeof members.accept> {
    return this.#serial.run(async () => {
      return members.accept(this.ctx.storage, token, email, now);
    });
  }

  async revokeInvitation(id: string): Promise<Invitation | undefined> {
    return this.#serial.run(async () => {
      return members.revokeInvitation(this.ctx.storage, id);
    });
  }

  /** A member's new role, or null to remove them. */
  async setRole(email: string, role: Role | null): ReturnType<typeof members.setRole> {
    return this.#serial.run(async () => {
      return members.setRole(this.ctx.storage, email, role);
    });
  }

  // ─── shared links ─────────────────────────────────────────────────────────────────────────────

  async shares(): Promise<Share[]> {
    return shares.listShares(this.ctx.storage);
  }

  async createShare(
    input: Parameters<typeof shares.createShare>[1],
    by: string,
    now: number,
  ): ReturnType<typeof shares.createShare> {
    return this.#serial.run(async () => {
      return shares.createShare(this.ctx.storage, input, by, now);
    });
  }

  async revokeShare(id: string, now: number): Promise<Share | undefined> {
    return this.#serial.run(async () => {
      return shares.revokeShare(this.ctx.storage, id, now);
    });
  }

  async verifyShare(token: string, now: number): ReturnType<typeof shares.verifyShare> {
    return shares.verifyShare(this.ctx.storage, token, now);
  }

  async unlockShare(token: string, password: string, now: number): ReturnType<typeof shares.unlockShare> {
    return this.#serial.run(async () => {
      return shares.unlockShare(this.ctx.storage, token, password, now);
    });
  }

  // ─── saved reports and segments, annotations, digests ────────────────────────────────────────

  async saved(kind?: StoredSavedItem["kind"]): Promise<StoredSavedItem[]> {
    return notes.listSaved(this.ctx.storage, kind);
  }

  async addSaved(input: SavedInput, by: string, now: number): Promise<StoredSavedItem | "full"> {
    return this.#serial.run(async () => {
      return notes.addSaved(this.ctx.storage, input, by, now);
    });
  }

  async updateSaved(id: string, input: SavedInput, by: string, now: number): Promise<StoredSavedItem | undefined> {
    return this.#serial.run(async () => {
      return notes.updateSaved(this.ctx.storage, id, input, by, now);
    });
  }

  async deleteSaved(id: string): Promise<StoredSavedItem | undefined> {
    return this.#serial.run(async () => {
      const item = await notes.readEntry<StoredSavedItem>(this.ctx.storage, "saved", id);
      if (item) await notes.deleteEntry(this.ctx.storage, "saved", id);
      return item;
    });
  }

  async annotations(from?: string, to?: string): Promise<Annotation[]> {
    return notes.listAnnotations(this.ctx.storage, from, to);
  }

  async addAnnotation(input: AnnotationRequest, by: string, now: number): Promise<Annotation | "full"> {
    return this.#serial.run(async () => {
      return notes.addAnnotation(this.ctx.storage, input, by, now);
    });
  }

  async deleteAnnotation(id: string): Promise<Annotation | undefined> {
    return this.#serial.run(async () => {
      const note = await notes.readEntry<Annotation>(this.ctx.storage, "annotation", id);
      if (note) await notes.deleteEntry(this.ctx.storage, "annotation", id);
      return note;
    });
  }

  async digests(): Promise<Digest[]> {
    return notes.listDigests(this.ctx.storage);
  }

  async addDigest(input: DigestRequest, by: string, now: number): Promise<Digest | "full"> {
    return this.#serial.run(async () => {
      const digest = await notes.addDigest(this.ctx.storage, input, by, now);
      if (digest !== "full")
        await this.audit(
          {
            actor: by,
            action: "digest_added",
            target: digest.id,
            detail: { channel: digest.channel, frequency: digest.frequency },
          },
          now,
        );
      return digest;
    });
  }

  /** Removes a digest (a person, or its unsubscribe link: `by` says which); false when there is none. */
  async deleteDigest(id: string, by: string, now: number): Promise<boolean> {
    return this.#serial.run(async () => {
      const digest = await notes.readEntry<Digest>(this.ctx.storage, "digest", id);
      if (!digest) return false;
      await notes.deleteEntry(this.ctx.storage, "digest", id);
      await this.audit(
        {
          actor: by,
          action: "digest_removed",
          target: id,
          detail: { channel: digest.channel, frequency: digest.frequency },
        },
        now,
      );
      return true;
    });
  }

  async markDigest(id: string, period: string, error: string | null, _now: number): Promise<void> {
    return this.#serial.run(async () => {
      await notes.markDigest(this.ctx.storage, id, period, error);
    });
  }

  /** The property was deleted: everything its team kept goes with it (the audit too: it names people). */
  async wipe(): Promise<string[]> {
    const people = Object.keys(await members.readMembers(this.ctx.storage));
    await this.ctx.storage.deleteAll();
    return people;
  }
}
