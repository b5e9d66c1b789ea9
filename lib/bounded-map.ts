/**
 * A Map with a size bound and a time-to-live per entry, in insertion order:
 * the shared in-memory store behind webhook replay claims, OIDC state,
 * JWT revocation and refresh tokens (the rate limiter keeps its own
 * GCRA-specific store). Expired entries are dropped lazily on read and
 * first in line when room is needed. An entry the owner marks as not
 * evictable (a delivery still being processed, say) is moved to the back
 * when met, so a run of them can never block the scan for long.
 */
export interface BoundedMapOptions<V> {
  /** Most entries held at once. */
  maxKeys: number
  /** Clock, ms since the epoch; late-bound by default so fake timers drive it. */
  now?: () => number
  /** May this live entry be dropped to make room? Default: yes. */
  canEvict?: (value: V) => boolean
}

interface Entry<V> {
  value: V
  expiresAt: number
}

/** How many entries one insertion looks at before giving up on finding room. */
const SCAN = 64

export class BoundedMap<V> {
  readonly #entries = new Map<string, Entry<V>>()
  readonly #maxKeys: number
  readonly #now: () => number
  readonly #canEvict: (value: V) => boolean

  constructor (options: BoundedMapOptions<V>) {
    this.#maxKeys = options.maxKeys
    this.#now = options.now ?? (() => Date.now())
    this.#canEvict = options.canEvict ?? (() => true)
  }

  get size (): number {
    return this.#entries.size
  }

  get (key: string): V | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key)
      return undefined
    }
    return entry.value
  }

  /** Milliseconds the entry has left, or 0 when there is none. */
  ttl (key: string): number {
    const entry = this.#entries.get(key)
    if (entry === undefined) return 0
    return Math.max(0, entry.expiresAt - this.#now())
  }

  /**
   * Stores `value` for `ttlMs`. Returns false, storing nothing, when the map
   * is full and no entry could be dropped (the caller decides what a full
   * store means for its security: refuse, never forget).
   */
  set (key: string, value: V, ttlMs: number): boolean {
    const now = this.#now()
    const existing = this.#entries.get(key)
    if (existing !== undefined) this.#entries.delete(key)
    else if (this.#entries.size >= this.#maxKeys && !this.#makeRoom(now)) return false
    this.#entries.set(key, { value, expiresAt: now + ttlMs })
    return true
  }

  /** Sets only when the key holds no live entry; false when it does (or there is no room). */
  setIfAbsent (key: string, value: V, ttlMs: number): boolean {
    if (this.get(key) !== undefined) return false
    return this.set(key, value, ttlMs)
  }

  delete (key: string): boolean {
    return this.#entries.delete(key)
  }

  clear (): void {
    this.#entries.clear()
  }

  /** Live entries, oldest first (expired ones are skipped, not removed). */
  * entries (): IterableIterator<[string, V, number]> {
    const now = this.#now()
    for (const [key, entry] of this.#entries) if (entry.expiresAt > now) yield [key, entry.value, entry.expiresAt]
  }

  #makeRoom (now: number): boolean {
    let seen = 0
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now || this.#canEvict(entry.value)) {
        this.#entries.delete(key)
        return true
      }
      // Not evictable: to the back, so the next scan starts past it.
      this.#entries.delete(key)
      this.#entries.set(key, entry)
      if (++seen >= SCAN) return false
    }
    return false
  }
}
