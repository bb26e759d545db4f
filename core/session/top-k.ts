/**
 * Space-Saving heavy hitters (Metwally et al.): the top keys of a stream in bounded memory. Any
 * key with true count above total/capacity is kept; a kept key's count overestimates by at most
 * its recorded error.
 */
export interface TopEntry {
  key: string;
  count: number;
  error: number;
}

export class SpaceSaving {
  readonly capacity: number;
  readonly #entries = new Map<string, TopEntry>();

  constructor(capacity: number, entries: readonly TopEntry[] = []) {
    this.capacity = capacity;
    for (const e of entries) this.#entries.set(e.key, { ...e });
  }

  add(key: string, weight = 1): void {
    const found = this.#entries.get(key);
    if (found) {
      found.count += weight;
      return;
    }
    if (this.#entries.size < this.capacity) {
      this.#entries.set(key, { key, count: weight, error: 0 });
      return;
    }
    let min: TopEntry | undefined;
    for (const e of this.#entries.values()) if (!min || e.count < min.count) min = e;
    if (!min) return;
    this.#entries.delete(min.key);
    this.#entries.set(key, { key, count: min.count + weight, error: min.count });
  }

  /** Adds another summary's counts (for windows merged into a report). */
  merge(other: SpaceSaving): this {
    for (const e of other.entries()) this.add(e.key, e.count);
    return this;
  }

  entries(): TopEntry[] {
    return [...this.#entries.values()];
  }

  /** The `n` largest, largest first (ties by key, so answers are stable). */
  top(n: number): TopEntry[] {
    return this.entries()
      .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
      .slice(0, n);
  }
}
