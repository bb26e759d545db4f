/** A bounded, approximately least-recently-used cache (Map keeps insertion order), with hit counting for benches. */
export class LruCache<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, V>();
  hits = 0;
  misses = 0;

  constructor(max: number) {
    this.#max = max;
  }

  /** Returns the cached value, computing and storing it on a miss. */
  getOrCompute(key: K, compute: (key: K) => V): V {
    const found = this.#map.get(key);
    if (found !== undefined) {
      this.hits++;
      // Refresh recency only now and then: a Map delete+insert on every hit costs more than the
      // rare recomputation when a hot key ages out (the bench reports the hit rate this gives).
      if ((this.hits & 63) === 0) {
        this.#map.delete(key);
        this.#map.set(key, found);
      }
      return found;
    }
    this.misses++;
    const value = compute(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
    return value;
  }

  get size(): number {
    return this.#map.size;
  }
}
