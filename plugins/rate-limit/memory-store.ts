import { decideAt, type GcraDecision, type GcraParams, intervalMs } from './gcra.js'
import type { RateLimitStore } from './store.js'

export interface MemoryStoreOptions {
  /** Most keys held at once. */
  maxKeys: number
  now?: () => number
  /** Called once when the store is full of limited keys and starts refusing new ones. */
  onFull?: () => void
}

/** How many of the least recently used keys an insertion looks at. */
const SCAN = 32

/**
 * A bounded in-process GCRA store: a Map from key to TAT, kept in
 * least-recently-used order (every update re-inserts its key), so eviction
 * looks only at the front. Expired keys (TAT in the past) hold nothing and go
 * first; then the key closest to expiry that is not currently limited. A
 * limited key is never evicted — that would hand it a fresh quota — so when
 * the front is all limited keys, a new key is refused (its request is
 * limited) instead.
 */
export class MemoryStore implements RateLimitStore {
  // TAT, and how far ahead of now it may be before the key is limited (capacity minus one interval).
  readonly #tats = new Map<string, { tat: number; slack: number }>()
  readonly #maxKeys: number
  readonly #now: () => number
  readonly #onFull: (() => void) | undefined
  #reportedFull = false

  constructor (options: MemoryStoreOptions) {
    this.#maxKeys = options.maxKeys
    this.#now = options.now ?? (() => Date.now())
    this.#onFull = options.onFull
  }

  get size (): number {
    return this.#tats.size
  }

  consume (key: string, params: GcraParams, cost: number): GcraDecision {
    const now = this.#now()
    const entry = this.#tats.get(key)
    if (entry === undefined && this.#tats.size >= this.#maxKeys && !this.#makeRoom(now)) {
      return this.#refuse(params)
    }
    const decision = decideAt(entry?.tat, now, params, cost)
    if (decision.allowed) {
      if (entry === undefined) {
        this.#tats.set(key, { tat: now + decision.debtMs, slack: intervalMs(params) * (params.burst - 1) })
      } else {
        entry.tat = now + decision.debtMs
        this.#tats.delete(key)
        this.#tats.set(key, entry)
      }
    }
    return decision
  }

  #makeRoom (now: number): boolean {
    let victim: string | undefined
    let victimTat = Number.POSITIVE_INFINITY
    let seen = 0
    for (const [key, { tat, slack }] of this.#tats) {
      if (tat <= now) {
        this.#tats.delete(key)
        return true
      }
      // Limited: one more request of cost 1 would be refused. Never evicted.
      if (tat - now <= slack && tat < victimTat) {
        victim = key
        victimTat = tat
      }
      if (++seen >= SCAN) break
    }
    if (victim === undefined) return false
    this.#tats.delete(victim)
    return true
  }

  #refuse (params: GcraParams): GcraDecision {
    if (!this.#reportedFull) {
      this.#reportedFull = true
      this.#onFull?.()
    }
    const wait = intervalMs(params)
    return { allowed: false, debtMs: 0, remaining: 0, resetMs: wait, retryAfterMs: wait }
  }
}
