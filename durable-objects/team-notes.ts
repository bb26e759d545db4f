/**
 * What a TeamDO's people keep for each other, one storage entry per item (so no list outgrows a
 * value): saved reports and segments ("saved:<id>"), annotations ("annotation:<id>") and scheduled
 * digests ("digest:<id>"), each bounded.
 */
import type { Annotation, AnnotationRequest, Digest, DigestRequest, StoredSavedItem } from "../core/team/schemas.ts";
import { newId } from "../core/team/tokens.ts";

export const LIMITS = { saved: 500, annotation: 2000, digest: 20 } as const;

async function all<T>(storage: DurableObjectStorage, prefix: keyof typeof LIMITS): Promise<T[]> {
  return [...(await storage.list<T>({ prefix: `${prefix}:` })).values()];
}

async function full(storage: DurableObjectStorage, prefix: keyof typeof LIMITS): Promise<boolean> {
  return (await storage.list({ prefix: `${prefix}:`, limit: LIMITS[prefix] })).size >= LIMITS[prefix];
}

export async function listSaved(
  storage: DurableObjectStorage,
  kind?: StoredSavedItem["kind"],
): Promise<StoredSavedItem[]> {
  const items = await all<StoredSavedItem>(storage, "saved");
  return items.filter((i) => !kind || i.kind === kind).sort((a, b) => a.name.localeCompare(b.name));
}

export async function addSaved(
  storage: DurableObjectStorage,
  input: Omit<StoredSavedItem, "id" | "owner" | "created_at" | "updated_at" | "updated_by">,
  by: string,
  now: number,
): Promise<StoredSavedItem | "full"> {
  if (await full(storage, "saved")) return "full";
  const item: StoredSavedItem = { ...input, id: newId(), owner: by, created_at: now, updated_at: now, updated_by: by };
  await storage.put(`saved:${item.id}`, item);
  return item;
}

export async function updateSaved(
  storage: DurableObjectStorage,
  id: string,
  input: Omit<StoredSavedItem, "id" | "owner" | "created_at" | "updated_at" | "updated_by">,
  by: string,
  now: number,
): Promise<StoredSavedItem | undefined> {
  const current = await storage.get<StoredSavedItem>(`saved:${id}`);
  if (!current) return undefined;
  const item: StoredSavedItem = { ...current, ...input, updated_at: now, updated_by: by };
  await storage.put(`saved:${id}`, item);
  return item;
}

export async function deleteEntry(
  storage: DurableObjectStorage,
  prefix: keyof typeof LIMITS,
  id: string,
): Promise<boolean> {
  return storage.delete(`${prefix}:${id}`);
}

export async function readEntry<T>(
  storage: DurableObjectStorage,
  prefix: keyof typeof LIMITS,
  id: string,
): Promise<T | undefined> {
  return storage.get<T>(`${prefix}:${id}`);
}

/** Annotations dated within [from, to] (YYYY-MM-DD, either end open), by date. */
export async function listAnnotations(
  storage: DurableObjectStorage,
  from?: string,
  to?: string,
): Promise<Annotation[]> {
  const notes = await all<Annotation>(storage, "annotation");
  return notes
    .filter((n) => (!from || n.date >= from) && (!to || n.date <= to))
    .sort((a, b) => a.date.localeCompare(b.date) || a.created_at - b.created_at);
}

export async function addAnnotation(
  storage: DurableObjectStorage,
  input: AnnotationRequest,
  by: string,
  now: number,
): Promise<Annotation | "full"> {
  if (await full(storage, "annotation")) return "full";
  const note: Annotation = { ...input, id: newId(), created_by: by, created_at: now };
  await storage.put(`annotation:${note.id}`, note);
  return note;
}

export async function listDigests(storage: DurableObjectStorage): Promise<Digest[]> {
  return (await all<Digest>(storage, "digest")).sort((a, b) => a.created_at - b.created_at);
}

export async function addDigest(
  storage: DurableObjectStorage,
  input: DigestRequest,
  by: string,
  now: number,
): Promise<Digest | "full"> {
  if (await full(storage, "digest")) return "full";
  const digest: Digest = {
    ...input,
    id: newId(),
    created_by: by,
    created_at: now,
    last_period: null,
    last_error: null,
  };
  await storage.put(`digest:${digest.id}`, digest);
  return digest;
}

/** Records a sending: the period when it went, the error when it did not (kept until the next try). */
export async function markDigest(
  storage: DurableObjectStorage,
  id: string,
  period: string,
  error: string | null,
): Promise<void> {
  const digest = await storage.get<Digest>(`digest:${id}`);
  if (!digest) return;
  await storage.put(`digest:${id}`, {
    ...digest,
    last_period: error === null ? period : digest.last_period,
    last_error: error,
  });
}
