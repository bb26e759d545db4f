/** Byte streams and collecting async iterables: the helpers the import-cli*.test.ts files share. */

/** Yields each part as bytes (strings UTF-8 encoded), one chunk per part. */
export async function* bytes(parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === "string" ? new TextEncoder().encode(p) : p;
}

/** Every item of an async iterable, in order. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
