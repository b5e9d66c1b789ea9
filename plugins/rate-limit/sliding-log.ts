// A sliding log, for buckets with `strict: true`: the timestamps (and costs)
// of the requests that passed in the last `window`, so a request passes only
// while the units inside ANY window of that length stay within `limit`.
// GCRA keeps one number per key but lets up to limit + burst through in one
// window (a full burst, then the refill); login and one-time-code routes
// want the plain promise instead. The log holds at most `limit` entries.

import { BoundedMap } from '../../lib/bounded-map.js'
import type { GcraDecision, GcraParams } from './gcra.js'

/** Passed requests as [time (ms), cost] pairs, oldest first. */
export type Log = [number, number][]

export interface LogDecision {
  decision: GcraDecision
  /** The log to store: expired entries dropped, this request added when it passed. */
  log: Log
}

/** Decides one request of `cost` against a log, at `now`. Pure: the caller stores `log`. */
export function decideLog (stored: Log | undefined, now: number, params: GcraParams, cost: number): LogDecision {
  const { limit, windowMs } = params
  const log = (stored ?? []).filter(([at]) => at > now - windowMs)
  let used = 0
  for (const [, c] of log) used += c
  if (used + cost <= limit) {
    // A reward (negative cost) takes back units of the newest entries.
    if (cost < 0) refund(log, -cost)
    else log.push([now, cost])
    const newest = log.length === 0 ? now - windowMs : log[log.length - 1][0]
    return {
      decision: {
        allowed: true,
        debtMs: 0,
        remaining: Math.min(limit, Math.max(0, limit - used - cost)),
        resetMs: Math.max(0, newest + windowMs - now),
        retryAfterMs: 0,
      },
      log,
    }
  }
  // Wait until enough of the oldest entries leave the window.
  const need = used + cost - limit
  let freed = 0
  let retryAfterMs = Number.POSITIVE_INFINITY
  for (const [at, c] of log) {
    freed += c
    if (freed >= need) {
      retryAfterMs = at + windowMs - now
      break
    }
  }
  return {
    decision: { allowed: false, debtMs: 0, remaining: Math.max(0, limit - used), resetMs: retryAfterMs, retryAfterMs },
    log,
  }
}

function refund (log: Log, units: number): void {
  while (units > 0 && log.length > 0) {
    const last = log[log.length - 1]
    const taken = Math.min(units, last[1])
    last[1] -= taken
    units -= taken
    if (last[1] === 0) log.pop()
  }
}

export interface SlidingLogStoreOptions {
  maxKeys: number
  now?: () => number
  /** Called once when the store is full of limited keys and starts refusing new ones. */
  onFull?: () => void
}

interface Entry {
  log: Log
  limit: number
  windowMs: number
}

/**
 * The in-memory home of strict buckets, on the suite's BoundedMap: an entry
 * lives as long as its newest request is inside the window, and a key that
 * is currently limited is never evicted (that would hand it a fresh quota);
 * when only limited keys are left, a new key is refused instead.
 */
export class SlidingLogStore {
  readonly #map: BoundedMap<Entry>
  readonly #now: () => number
  readonly #onFull: (() => void) | undefined
  #reportedFull = false

  constructor (options: SlidingLogStoreOptions) {
    this.#now = options.now ?? (() => Date.now())
    this.#onFull = options.onFull
    this.#map = new BoundedMap<Entry>({ maxKeys: options.maxKeys, now: this.#now, canEvict: (entry) => !this.#limited(entry) })
  }

  #limited (entry: Entry): boolean {
    const now = this.#now()
    let used = 0
    for (const [at, c] of entry.log) if (at > now - entry.windowMs) used += c
    return used >= entry.limit
  }

  consume (key: string, params: GcraParams, cost: number): GcraDecision {
    const now = this.#now()
    const { decision, log } = decideLog(this.#map.get(key)?.log, now, params, cost)
    if (!decision.allowed) return decision
    if (log.length === 0) {
      this.#map.delete(key)
      return decision
    }
    const ttl = log[log.length - 1][0] + params.windowMs - now
    if (!this.#map.set(key, { log, limit: params.limit, windowMs: params.windowMs }, ttl)) {
      if (!this.#reportedFull) {
        this.#reportedFull = true
        this.#onFull?.()
      }
      return { allowed: false, debtMs: 0, remaining: 0, resetMs: params.windowMs, retryAfterMs: params.windowMs }
    }
    return decision
  }
}
