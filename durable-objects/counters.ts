/** Named counters kept in a Durable Object's storage (refusal counts and the like). */

/** Adds `counts` to the map stored under `key`, in one write. */
export async function addCounts(
  storage: DurableObjectStorage,
  key: string,
  counts: Record<string, number>,
): Promise<void> {
  const current = (await storage.get<Record<string, number>>(key)) ?? {};
  for (const [name, n] of Object.entries(counts)) current[name] = (current[name] ?? 0) + n;
  await storage.put(key, current);
}

export async function readCounts(storage: DurableObjectStorage, key: string): Promise<Record<string, number>> {
  return (await storage.get<Record<string, number>>(key)) ?? {};
}
