// Asking the store: the memory store by default, Redis or a custom store
// when configured, with the timeout, the breaker after a failure, and the
// `onStoreError` fallback. A store's answer is validated before it decides
// anything (a custom store is user code).

import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import { createLogLimiter } from '../../lib/log-limiter.js'
import { Deadlines } from '../../lib/with-timeout.js'
import type { Bucket } from './buckets.js'
import { CLOSED, OPEN, type Outcome } from './decide.js'
import type { GcraDecision } from './gcra.js'
import { MemoryStore } from './memory-store.js'
import type { RedisStore } from './redis-store.js'
import { SlidingLogStore } from './sliding-log.js'
import { isThenable, type RateLimitStore, validDecision } from './store.js'

const LOG_INTERVAL_MS = 10_000
/** After a store failure, skip it for this long: no request waits on a store known to be down. */
const BREAKER_MS = 1000

export interface LimiterOptions {
  maxKeys: number
  now: () => number
  log: FastifyBaseLogger
  redis: RedisStore | undefined
  custom: RateLimitStore | undefined
  timeoutMs: number
  onStoreError: 'memory' | 'open' | 'closed'
}

class InvalidAnswerError extends Error {
  constructor () {
    super('the rate-limit store answered with something that is not a decision ({ allowed, remaining, resetMs, retryAfterMs })')
  }
}

export class Limiter {
  readonly #memory: MemoryStore
  readonly #strict: SlidingLogStore
  readonly #redis: RedisStore | undefined
  readonly #external: RateLimitStore | undefined
  /** Bounds a custom store's calls with one timer for all of them, not one per call. */
  readonly #deadlines: Deadlines
  readonly #onStoreError: 'memory' | 'open' | 'closed'
  readonly #log: FastifyBaseLogger
  readonly #errors = createLogLimiter(LOG_INTERVAL_MS)
  #downUntil = 0

  constructor (options: LimiterOptions) {
    const onFull = () =>
      options.log.error(
        { maxKeys: options.maxKeys },
        'fastify-rampart: the rate-limit memory store is full of limited clients; new clients are limited until some expire'
      )
    this.#memory = new MemoryStore({ maxKeys: options.maxKeys, now: options.now, onFull })
    this.#strict = new SlidingLogStore({ maxKeys: options.maxKeys, now: options.now, onFull })
    this.#redis = options.redis
    this.#external = options.redis ?? options.custom
    this.#deadlines = new Deadlines(options.timeoutMs)
    this.#onStoreError = options.onStoreError
    this.#log = options.log
  }

  /** One check (or, with a negative cost, a reward) of `key` in `bucket`. Synchronous on the memory path. */
  consume (request: FastifyRequest, key: string, bucket: Bucket, cost: number): Outcome | Promise<Outcome> {
    if (this.#external === undefined) return this.#local(key, bucket, cost)
    if (Date.now() < this.#downUntil) return this.#fallback(key, bucket, cost)
    let result: unknown
    try {
      result = bucket.strict
        ? (this.#redis as RedisStore).consumeStrict(key, bucket.params, cost)
        : this.#external.consume(key, bucket.params, cost)
    } catch (err) {
      return this.#failed(request, err, key, bucket, cost)
    }
    if (!isThenable(result)) return this.#checked(request, result, key, bucket, cost)
    // The Redis store bounds its own calls; anything else is bounded here.
    const bounded = this.#external === this.#redis ? (result as Promise<unknown>) : this.#deadlines.bound(result)
    return bounded.then(
      (answer) => this.#checked(request, answer, key, bucket, cost),
      (err: unknown) => this.#failed(request, err, key, bucket, cost)
    )
  }

  #local (key: string, bucket: Bucket, cost: number): GcraDecision {
    return bucket.strict ? this.#strict.consume(key, bucket.params, cost) : this.#memory.consume(key, bucket.params, cost)
  }

  #checked (request: FastifyRequest, answer: unknown, key: string, bucket: Bucket, cost: number): Outcome {
    const decision = validDecision(answer)
    if (decision === undefined) return this.#failed(request, new InvalidAnswerError(), key, bucket, cost)
    return decision
  }

  #fallback (key: string, bucket: Bucket, cost: number): Outcome {
    if (this.#onStoreError === 'open') return OPEN
    if (this.#onStoreError === 'closed') return CLOSED
    return this.#local(key, bucket, cost)
  }

  #failed (request: FastifyRequest, err: unknown, key: string, bucket: Bucket, cost: number): Outcome {
    this.#downUntil = Date.now() + BREAKER_MS
    const suppressed = this.#errors.take()
    if (suppressed >= 0) {
      // A manual check may pass a request-like object without a logger.
      ;(request.log ?? this.#log).warn({ err, onStoreError: this.#onStoreError, suppressed }, 'fastify-rampart: the rate-limit store failed')
    }
    return this.#fallback(key, bucket, cost)
  }
}
