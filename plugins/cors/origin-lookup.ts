import { BoundedMap } from '../../lib/bounded-map.js'

// An async originMatcher (a tenant lookup) behind the synchronous policy
// code: `check` answers from the cache, or starts the lookup and answers
// "no" for now; `run` then re-runs the decision once the answer is in.
// Answers are cached (bounded, with a TTL) so a known origin costs one Map
// read; a lookup that throws, rejects or outlasts the timeout refuses the
// origin, and that refusal is cached for `negativeTtl` too, so a failing
// lookup is not retried on every request.

export type OriginMatcher = (origin: string) => boolean | PromiseLike<boolean>

export interface OriginLookupOptions {
  timeoutMs: number
  maxKeys: number
  ttlMs: number
  negativeTtlMs: number
  /** Told (rate-limited by the caller) when a lookup fails; never given the error itself. */
  onFailure: (reason: 'threw' | 'rejected' | 'timeout' | 'busy') => void
  now?: () => number
  setTimer?: (fn: () => void, ms: number) => () => void
}

// Not unref'd: a request is waiting on it (and it is cleared once the lookup settles).
function realTimer (fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, ms)
  return () => clearTimeout(timer)
}

function isThenable (value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function'
}

export class OriginLookup {
  readonly #matcher: OriginMatcher
  readonly #options: OriginLookupOptions
  readonly #cache: BoundedMap<boolean>
  readonly #inflight = new Map<string, Promise<boolean>>()
  readonly #setTimer: (fn: () => void, ms: number) => () => void
  #pending: { origin: string; promise: Promise<boolean> } | undefined
  #answer: { origin: string; value: boolean } | undefined

  constructor (matcher: OriginMatcher, options: OriginLookupOptions) {
    this.#matcher = matcher
    this.#options = options
    this.#cache = new BoundedMap<boolean>({ maxKeys: options.maxKeys, now: options.now })
    this.#setTimer = options.setTimer ?? realTimer
  }

  /** The synchronous matcher the policy calls. */
  readonly check = (origin: string): boolean => {
    if (this.#answer !== undefined && this.#answer.origin === origin) return this.#answer.value
    const cached = this.#cache.get(origin)
    if (cached !== undefined) return cached
    const inflight = this.#inflight.get(origin)
    if (inflight !== undefined) {
      this.#pending = { origin, promise: inflight }
      return false
    }
    let out: unknown
    // The matcher sees attacker-chosen input; if it throws, the origin is simply not allowed (never a 500).
    try {
      out = this.#matcher(origin)
    } catch {
      this.#options.onFailure('threw')
      return false
    }
    if (!isThenable(out)) return out === true
    // Bounds the lookups a flood of made-up origins can start at once.
    if (this.#inflight.size >= this.#options.maxKeys) {
      this.#options.onFailure('busy')
      return false
    }
    const promise = this.#settle(origin, out)
    this.#inflight.set(origin, promise)
    this.#pending = { origin, promise }
    return false
  }

  /**
   * Before a decision that may call `check`: afterwards `waiting` says
   * whether it started (or joined) a lookup. Split from `retry` so a
   * decision answered from the cache allocates nothing.
   */
  begin (): void {
    this.#pending = undefined
  }

  get waiting (): boolean {
    return this.#pending !== undefined
  }

  /** Once the lookup `check` started has settled, runs `decide` again with its answer at hand. */
  retry<T> (decide: () => T): Promise<T> {
    const pending = this.#pending as { origin: string; promise: Promise<boolean> }
    this.#pending = undefined
    return pending.promise.then((value) => {
      this.#answer = { origin: pending.origin, value }
      try {
        return decide()
      } finally {
        this.#answer = undefined
      }
    })
  }

  /**
   * Runs `decide` (which may call `check`) and hands its result to `then`:
   * at once when every answer was at hand, else after the lookup `check`
   * started, deciding again with its answer.
   */
  run<T> (decide: () => T, then: (value: T) => void): void {
    this.begin()
    const first = decide()
    if (!this.waiting) return then(first)
    this.retry(decide).then(then)
  }

  /** Always resolves: true only for a lookup that answered `true` in time. */
  #settle (origin: string, answer: PromiseLike<unknown>): Promise<boolean> {
    const { timeoutMs, ttlMs, negativeTtlMs, onFailure } = this.#options
    return new Promise<boolean>((resolve) => {
      let settled = false
      const finish = (value: boolean, failure?: 'rejected' | 'timeout'): void => {
        if (settled) return
        settled = true
        cancel()
        if (failure !== undefined) onFailure(failure)
        this.#inflight.delete(origin)
        this.#cache.set(origin, value, value ? ttlMs : negativeTtlMs)
        resolve(value)
      }
      const cancel = this.#setTimer(() => finish(false, 'timeout'), timeoutMs)
      Promise.resolve(answer).then(
        (value) => finish(value === true),
        () => finish(false, 'rejected')
      )
    })
  }
}
