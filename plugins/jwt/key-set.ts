import type { FastifyBaseLogger } from 'fastify'
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose'
import { createLogLimiter, type LogLimiter } from '../../lib/log-limiter.js'

/** Thrown when no key set can be had: the answer is 503 with `Retry-After`, the client's token is not at fault. */
export class KeysUnavailable extends Error {
  constructor (readonly retryAfterSeconds: number) {
    super('JWKS unavailable')
  }
}

/** What the verifier needs from any key source. */
export interface KeySource {
  /** jose's key resolver for `jwtVerify`. */
  getKey: JWTVerifyGetKey
  /** Changes whenever the keys change: cached verifications made with older keys are redone. */
  readonly generation: number
  /**
   * May verifications made with the current keys still be used? Cached
   * tokens skip getKey, so this is where a stale set starts its refresh.
   */
  keep(): boolean
}

/** A local JWKS: parsed once, never fetched. */
export function localKeySet (jwks: JSONWebKeySet): KeySource {
  return { getKey: createLocalJWKSet(jwks), generation: 0, keep: () => true }
}

export interface RemoteKeySetOptions {
  cacheMaxAgeMs: number
  cooldownMs: number
  timeoutMs: number
  maxStaleMs: number
  now: () => number
  log: FastifyBaseLogger
}

const LOG_INTERVAL_MS = 10_000

/**
 * A remote JWKS. jose's createRemoteJWKSet does cooldowns and timeouts but
 * throws away its keys once `cacheMaxAge` passes and the refetch fails, so an
 * IdP outage would log every caller out. This fetches itself (no redirects,
 * 200 only) and hands each good set to jose's createLocalJWKSet, which does
 * the key selection (kid, alg, kty, use, key_ops) and imports.
 */
export class RemoteKeySet implements KeySource {
  generation = 0
  readonly getKey: JWTVerifyGetKey
  readonly #url: string
  readonly #o: RemoteKeySetOptions
  readonly #logLimiter: LogLimiter
  #local: JWTVerifyGetKey | undefined
  #text = ''
  #fetchedAt = Number.NEGATIVE_INFINITY
  #attemptAt = Number.NEGATIVE_INFINITY
  #failed = false
  #pending: Promise<void> | undefined

  constructor (url: string, options: RemoteKeySetOptions) {
    this.#url = url
    this.#o = options
    this.#logLimiter = createLogLimiter(LOG_INTERVAL_MS, options.now)
    this.getKey = (header, token) => this.#resolve(header, token)
  }

  keep (): boolean {
    const o = this.#o
    const age = o.now() - this.#fetchedAt
    if (age <= o.cacheMaxAgeMs) return true
    this.#refresh().catch(/* c8 ignore next -- #refresh never rejects */ () => {})
    return age <= o.cacheMaxAgeMs + o.maxStaleMs
  }

  async #resolve (header: Parameters<JWTVerifyGetKey>[0], token: Parameters<JWTVerifyGetKey>[1]): Promise<Awaited<ReturnType<JWTVerifyGetKey>>> {
    const o = this.#o
    const age = o.now() - this.#fetchedAt
    if (age > o.cacheMaxAgeMs) {
      if (age <= o.cacheMaxAgeMs + o.maxStaleMs) {
        // Stale but usable: refresh behind this request instead of making it wait.
        this.#refresh().catch(/* c8 ignore next -- #refresh never rejects */ () => {})
      } else {
        await this.#refresh()
        this.#usable()
      }
    }
    const local = this.#local as JWTVerifyGetKey
    try {
      return await local(header, token)
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY') throw err
      await this.#refresh()
      // A kid we do not know while the IdP is down may be a key it just rotated in: not the token's fault.
      if (this.#failed) throw new KeysUnavailable(this.#retryAfter())
      return await (this.#local as JWTVerifyGetKey)(header, token)
    }
  }

  /** Throws KeysUnavailable unless a set no older than cacheMaxAge + maxStale is held. */
  #usable (): void {
    if (this.#o.now() - this.#fetchedAt > this.#o.cacheMaxAgeMs + this.#o.maxStaleMs) throw new KeysUnavailable(this.#retryAfter())
  }

  #retryAfter (): number {
    return Math.max(1, Math.ceil((this.#attemptAt + this.#o.cooldownMs - this.#o.now()) / 1000))
  }

  /** One fetch at a time, at most one per cooldown; concurrent callers share it. Never rejects. */
  #refresh (): Promise<void> {
    if (this.#pending !== undefined) return this.#pending
    if (this.#o.now() - this.#attemptAt < this.#o.cooldownMs) return Promise.resolve()
    this.#attemptAt = this.#o.now()
    this.#pending = this.#fetch().finally(() => {
      this.#pending = undefined
    })
    return this.#pending
  }

  async #fetch (): Promise<void> {
    try {
      // Redirects are not followed: the key set lives at the configured URL, nowhere else.
      const res = await fetch(this.#url, {
        redirect: 'manual',
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      })
      const text = await res.text()
      if (res.status !== 200) throw new Error(`JWKS endpoint answered ${res.status}`)
      const local = createLocalJWKSet(JSON.parse(text) as JSONWebKeySet)
      this.#fetchedAt = this.#o.now()
      this.#failed = false
      if (text !== this.#text) {
        this.#text = text
        this.#local = local
        this.generation++
      }
    } catch (err) {
      this.#failed = true
      const suppressed = this.#logLimiter.take()
      if (suppressed >= 0) {
        this.#o.log.warn(
          { jwksUri: this.#url, err: { message: (err as Error).message }, suppressed, hasKeys: this.#local !== undefined },
          'fastify-rampart: could not fetch the JWKS; keys fetched before stay in use up to jwks.maxStale'
        )
      }
    }
  }
}
