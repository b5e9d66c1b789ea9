import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import { BoundedMap } from '../../lib/bounded-map.js'
import { createLogLimiter } from '../../lib/log-limiter.js'
import { connectRedis, type RedisConnection, taggedKey } from '../../lib/redis.js'
import { withTimeout } from '../../lib/with-timeout.js'

/** A Date, or a time in seconds (a JWT NumericDate such as `exp`) or milliseconds since the epoch. */
export type TimeInput = Date | number

// 1e11 seconds is the year 5138 and 1e11 ms is 1973: no real date is ambiguous.
export function toEpochMs (value: TimeInput): number {
  if (value instanceof Date) return value.getTime()
  return value < 1e11 ? value * 1000 : value
}

/**
 * The denylist every instance holds in memory, so checking a token costs
 * no network round trip. Entries expire when the tokens they name would
 * have; a full list refuses new entries (and says so) instead of
 * forgetting a revocation.
 */
export class RevocationList {
  readonly #tokens: BoundedMap<true>
  readonly #subjects: BoundedMap<number>
  readonly #now: () => number

  constructor (maxEntries: number, now: () => number) {
    this.#now = now
    this.#tokens = new BoundedMap({ maxKeys: maxEntries, now, canEvict: () => false })
    this.#subjects = new BoundedMap({ maxKeys: maxEntries, now, canEvict: () => false })
  }

  addToken (jti: string, expiresAtMs: number): boolean {
    const ttl = expiresAtMs - this.#now()
    if (ttl <= 0) return true
    return this.#tokens.set(jti, true, Math.max(ttl, this.#tokens.ttl(jti)))
  }

  /** Tokens of `subject` issued before `issuedBeforeMs` are revoked until `untilMs`. */
  addSubject (subject: string, issuedBeforeMs: number, untilMs: number): boolean {
    const ttl = untilMs - this.#now()
    if (ttl <= 0) return true
    const existing = this.#subjects.get(subject)
    if (existing !== undefined && existing >= issuedBeforeMs) return true
    return this.#subjects.set(subject, issuedBeforeMs, Math.max(ttl, this.#subjects.ttl(subject)))
  }

  /** Is a token with this `jti`, `sub` and `iat` (seconds) revoked? A missing `iat` cannot prove it came after. */
  revoked (jti: unknown, subject: string | undefined, iat: unknown): boolean {
    if (typeof jti === 'string' && this.#tokens.get(jti) !== undefined) return true
    if (subject === undefined) return false
    const before = this.#subjects.get(subject)
    if (before === undefined) return false
    return typeof iat !== 'number' || iat * 1000 < before
  }
}

export interface RevocationSyncOptions {
  redis: Redis | string
  prefix: string
  log: FastifyBaseLogger
  list: RevocationList
  now: () => number
  /** How long after a failed load to try again (default 1 s). */
  retryMs?: number
}

const STARTUP_WAIT_MS = 2000
const RELOAD_RETRY_MS = 1000
const WRITE_TIMEOUT_MS = 1000
const LOG_INTERVAL_MS = 10_000

/** One sorted-set member per revocation, scored by when it expires. */
function tokenMember (jti: string): string {
  return `t\n${jti}`
}
function subjectMember (subject: string, issuedBeforeMs: number): string {
  return `s\n${issuedBeforeMs}\n${subject}`
}

/**
 * Shares revocations between instances through Redis: each is written to a
 * sorted set (scored by expiry, so the list prunes itself) and published;
 * every instance applies what it hears, and reloads the whole set when its
 * subscriber (re)connects, so nothing published while it was away is missed.
 */
export class RevocationSync {
  readonly #o: RevocationSyncOptions
  readonly #connection: RedisConnection
  readonly #subscriber: Redis
  readonly #key: string
  readonly #channel: string
  readonly #limiter = createLogLimiter(LOG_INTERVAL_MS)
  readonly #reload: () => void
  #retry: NodeJS.Timeout | undefined
  #closed = false

  constructor (options: RevocationSyncOptions) {
    this.#o = options
    this.#key = taggedKey(options.prefix, 'revoked')
    this.#channel = `${options.prefix}revocations`
    this.#connection = connectRedis(options.redis, { log: options.log, purpose: 'jwt revocation' })
    // A subscribed connection can run no other command: a second one, ours to close.
    this.#subscriber = this.#connection.client.duplicate({ enableOfflineQueue: true, autoResubscribe: true })
    this.#subscriber.on('error', (err: Error) => this.#logError(err, 'subscriber'))
    this.#subscriber.on('message', (_channel: string, message: string) => this.#apply(message))
    // Whichever of the two connections comes back last finds the other ready: reload on both.
    const reload = () => {
      this.load().catch(/* c8 ignore next -- load() logs and never rejects */ () => {})
    }
    this.#subscriber.on('ready', reload)
    this.#connection.client.on('ready', reload)
    this.#reload = reload
  }

  /** Subscribes and loads the current list; waits a bounded time for Redis, never fails the start. */
  async start (): Promise<void> {
    await withTimeout(this.#subscriber.subscribe(this.#channel), STARTUP_WAIT_MS).catch((err: Error) => this.#logError(err, 'subscribe'))
    if (await this.#connection.ready(STARTUP_WAIT_MS)) await this.load()
  }

  async load (): Promise<void> {
    try {
      const entries = await this.#connection.client.zrange(this.#key, this.#o.now(), '+inf', 'BYSCORE', 'WITHSCORES')
      for (let i = 0; i < entries.length; i += 2) this.#apply(`${entries[i + 1]}\n${entries[i]}`)
    } catch (err) {
      this.#logError(err as Error, 'load')
      // A reload that fails (a timeout while Redis is still warming up after
      // an outage, say) is tried again: until it succeeds, revocations made
      // while this instance was away would stay unknown here.
      this.#retryLater()
    }
  }

  #retryLater (): void {
    if (this.#closed || this.#retry !== undefined) return
    this.#retry = setTimeout(() => {
      this.#retry = undefined
      this.#reload()
    }, this.#o.retryMs ?? RELOAD_RETRY_MS)
    this.#retry.unref()
  }

  async revokeToken (jti: string, expiresAtMs: number): Promise<void> {
    await this.#write(tokenMember(jti), expiresAtMs)
  }

  async revokeSubject (subject: string, issuedBeforeMs: number, untilMs: number): Promise<void> {
    await this.#write(subjectMember(subject, issuedBeforeMs), untilMs)
  }

  async close (): Promise<void> {
    this.#closed = true
    clearTimeout(this.#retry)
    this.#connection.client.off('ready', this.#reload)
    this.#subscriber.disconnect()
    await this.#connection.close()
  }

  async #write (member: string, expiresAtMs: number): Promise<void> {
    const client = this.#connection.client
    await withTimeout(
      client
        .multi()
        .zadd(this.#key, expiresAtMs, member)
        .zremrangebyscore(this.#key, '-inf', this.#o.now())
        .publish(this.#channel, `${expiresAtMs}\n${member}`)
        .exec(),
      WRITE_TIMEOUT_MS
    )
  }

  /** `<expiresAtMs>\nt\n<jti>` or `<expiresAtMs>\ns\n<issuedBeforeMs>\n<subject>`. */
  #apply (message: string): void {
    const [score, kind, a, ...rest] = message.split('\n')
    const until = Number(score)
    if (kind === 't') this.#o.list.addToken([a, ...rest].join('\n'), until)
    else if (kind === 's') this.#o.list.addSubject(rest.join('\n'), Number(a), until)
  }

  #logError (err: Error, during: string): void {
    const suppressed = this.#limiter.take()
    if (suppressed >= 0) {
      this.#o.log.error({ err: { message: err.message }, during, suppressed }, 'fastify-rampart: jwt revocation Redis sync failed')
    }
  }
}
