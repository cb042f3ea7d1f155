// A least-recently-used map within a size budget (sizes in any unit, e.g. bytes).

export class LRU<K, V> {
  private readonly map = new Map<K, { value: V; size: number }>();
  private total = 0;

  constructor(
    private budget: number,
    private readonly onEvict?: (key: K, value: V) => void,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get totalSize(): number {
    return this.total;
  }

  get capacity(): number {
    return this.budget;
  }

  set capacity(value: number) {
    this.budget = value;
    this.evict();
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** The value, marked as used most recently. */
  get(key: K): V | undefined {
    const entry = this.map.get(key);
    if (entry === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, entry);
    return entry.value;
  }

  /** The value without touching its recency. */
  peek(key: K): V | undefined {
    return this.map.get(key)?.value;
  }

  set(key: K, value: V, size = 1): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.map.delete(key);
      this.total -= old.size;
      if (old.value !== value) this.onEvict?.(key, old.value);
    }
    this.map.set(key, { value, size });
    this.total += size;
    this.evict(key);
  }

  delete(key: K): boolean {
    const entry = this.map.get(key);
    if (entry === undefined) return false;
    this.map.delete(key);
    this.total -= entry.size;
    this.onEvict?.(key, entry.value);
    return true;
  }

  clear(): void {
    for (const [k, e] of this.map) this.onEvict?.(k, e.value);
    this.map.clear();
    this.total = 0;
  }

  keys(): IterableIterator<K> {
    return this.map.keys();
  }

  values(): V[] {
    return [...this.map.values()].map((e) => e.value);
  }

  private evict(keep?: K): void {
    for (const [k, e] of this.map) {
      if (this.total <= this.budget) break;
      if (k === keep && this.map.size === 1) break;
      if (k === keep) continue;
      this.map.delete(k);
      this.total -= e.size;
      this.onEvict?.(k, e.value);
    }
  }
}
