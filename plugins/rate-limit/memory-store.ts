import { decideAt, type GcraDecision, type GcraParams, intervalMs } from './gcra.js'
import type { RateLimitStore } from './store.js'

export interface MemoryStoreOptions {
  /** Most keys held at once. */
  maxKeys: number
  now?: () => number
  /** Called once when the store is full of limited keys and starts refusing new ones. */
  onFull?: () => void
}

/** How many entries of each list one insertion looks at. */
const SCAN = 32

interface Entry {
  /** Theoretical arrival time, ms since the epoch. */
  tat: number
  /** How far ahead of now the TAT may be before the key is limited (capacity minus one interval). */
  slack: number
  /** When the key last moved to the back of its list. */
  moved: number
}

/** A key in steady use moves to the back of its list at most this often: a Map delete + set per request is measurable (issue 17). */
const MOVE_MS = 1000

/** Limited: one more request of cost 1 would be refused. */
function isLimited (entry: Entry, now: number): boolean {
  return entry.tat - now > entry.slack
}

/**
 * A bounded in-process GCRA store. A limited key is never evicted — that
 * would hand it a fresh quota — so limited keys live in their own Map, out
 * of the eviction scan's way: a run of them can no longer fill the front of
 * the LRU and lock out every new client while the store holds thousands of
 * evictable keys (issue 10). A key only becomes limited through a request,
 * and only time frees it, so every key in `#open` can be evicted; an
 * insertion into a full store drops an expired key or the open key closest
 * to expiry among the least recently used. Only when `#open` is empty is a
 * new key refused (its request is limited), after a look for limited keys
 * whose time has passed.
 */
export class MemoryStore implements RateLimitStore {
  /** Keys not limited, least recently used first. */
  readonly #open = new Map<string, Entry>()
  /** Limited keys, oldest first; the scan moves the ones still limited to the back. */
  readonly #limited = new Map<string, Entry>()
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
    return this.#open.size + this.#limited.size
  }

  consume (key: string, params: GcraParams, cost: number): GcraDecision {
    const now = this.#now()
    let entry = this.#open.get(key)
    const wasOpen = entry !== undefined
    if (!wasOpen) entry = this.#limited.get(key)
    if (entry === undefined && this.size >= this.#maxKeys && !this.#makeRoom(now)) {
      return this.#refuse(params)
    }
    const decision = decideAt(entry?.tat, now, params, cost)
    if (decision.allowed) {
      const tat = now + decision.debtMs
      const updated = entry ?? { tat, slack: intervalMs(params) * (params.burst - 1), moved: now }
      updated.tat = tat
      const limited = isLimited(updated, now)
      // Still in the right list and moved lately: it is recent enough where it is.
      if (entry !== undefined && limited !== wasOpen && now - entry.moved < MOVE_MS) return decision
      updated.moved = now
      // Delete first: a re-set key moves to the back of its list (most recently used).
      if (wasOpen) this.#open.delete(key)
      else this.#limited.delete(key)
      ;(limited ? this.#limited : this.#open).set(key, updated)
    }
    return decision
  }

  #makeRoom (now: number): boolean {
    if (this.#releaseLimited(now)) return true
    let victim: string | undefined
    let victimTat = Number.POSITIVE_INFINITY
    let seen = 0
    for (const [key, { tat }] of this.#open) {
      if (tat <= now) {
        victim = key
        break
      }
      if (tat < victimTat) {
        victim = key
        victimTat = tat
      }
      if (++seen >= SCAN) break
    }
    if (victim === undefined) return false
    this.#open.delete(victim)
    return true
  }

  /**
   * Looks at the oldest limited keys: keys freed by time join `#open`, the
   * others move to the back, so the next look starts past them. True when an
   * expired key was dropped (that made the room).
   */
  #releaseLimited (now: number): boolean {
    let seen = 0
    for (const [key, entry] of this.#limited) {
      if (++seen > SCAN) break
      this.#limited.delete(key)
      if (entry.tat <= now) return true
      if (isLimited(entry, now)) this.#limited.set(key, entry)
      else this.#open.set(key, entry)
    }
    return false
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
