/**
 * The one storage interface of the archive, with two production implementations (R2 through the
 * binding: platform/archive/r2-store.ts; any S3-compatible store: platform/archive/s3-store.ts) and
 * an in-memory one for tests and the bench. Keys are the layout of core/archive/layout.ts.
 */

/** An object as a listing or a write reports it. `etag` is unquoted. */
export interface ArchiveObject {
  key: string;
  size: number;
  etag: string;
  /** Epoch ms of the last write. */
  uploaded: number;
}

/** A write's precondition: replace only this version, or create only if absent. */
export type PutCondition = { etagMatches: string } | { absent: true };

export interface ArchiveListPage {
  objects: ArchiveObject[];
  /** Set when more keys follow: pass it back to `list`. */
  cursor?: string;
}

export interface ArchiveStore {
  /** Writes an object; with `onlyIf`, returns null (and writes nothing) when the condition fails. */
  put(key: string, body: Uint8Array, onlyIf?: PutCondition): Promise<ArchiveObject | null>;
  /** The object's bytes and etag, or null when there is none. */
  get(key: string): Promise<{ body: Uint8Array; etag: string } | null>;
  /** One page of the keys under a prefix, in key order. */
  list(prefix: string, cursor?: string): Promise<ArchiveListPage>;
  /** Deletes the keys (missing keys are not an error). */
  delete(keys: readonly string[]): Promise<void>;
}

/** The Content-Type an archive object is stored with (Parquet's IANA type for data files). */
export function archiveContentType(key: string): string {
  if (key.endsWith(".parquet")) return "application/vnd.apache.parquet";
  if (key.endsWith(".json")) return "application/json";
  return "application/octet-stream";
}

/** Every object under a prefix, all pages. */
export async function listAll(store: ArchiveStore, prefix: string): Promise<ArchiveObject[]> {
  const out: ArchiveObject[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list(prefix, cursor);
    out.push(...page.objects);
    cursor = page.cursor;
  } while (cursor);
  return out;
}

/** A store in memory: the same contract, conditional writes included. `now` sets upload times. */
export class MemoryArchiveStore implements ArchiveStore {
  readonly objects = new Map<string, { body: Uint8Array; meta: ArchiveObject }>();
  private version = 0;
  private readonly now: () => number;
  private readonly pageSize: number;

  constructor(now: () => number = Date.now, pageSize = 1000) {
    this.now = now;
    this.pageSize = pageSize;
  }

  async put(key: string, body: Uint8Array, onlyIf?: PutCondition): Promise<ArchiveObject | null> {
    const existing = this.objects.get(key);
    if (onlyIf && "absent" in onlyIf && existing) return null;
    if (onlyIf && "etagMatches" in onlyIf && existing?.meta.etag !== onlyIf.etagMatches) return null;
    const meta = { key, size: body.byteLength, etag: `v${++this.version}`, uploaded: this.now() };
    this.objects.set(key, { body: body.slice(), meta });
    return { ...meta };
  }

  async get(key: string): Promise<{ body: Uint8Array; etag: string } | null> {
    const hit = this.objects.get(key);
    return hit ? { body: hit.body.slice(), etag: hit.meta.etag } : null;
  }

  async list(prefix: string, cursor?: string): Promise<ArchiveListPage> {
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix) && (!cursor || k > cursor)).sort();
    const page = keys.slice(0, this.pageSize);
    const objects = page.flatMap((k) => {
      const hit = this.objects.get(k);
      return hit ? [{ ...hit.meta }] : [];
    });
    return keys.length > page.length ? { objects, cursor: page.at(-1) } : { objects };
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.objects.delete(key);
  }
}
