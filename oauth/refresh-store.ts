import type { Redis } from 'ioredis'
import { BoundedMap } from '../lib/bounded-map.js'
import { connectRedis, type RedisConnection } from '../lib/redis.js'
import { taggedKey } from '../lib/redis.js'
import { withTimeout } from '../lib/with-timeout.js'

/**
 * Where refresh tokens live. Tokens are known here only by their SHA-256
 * hash. A token's record never changes once written; what changes is its
 * status (active → consumed) and its family's (active → revoked), and the
 * one change that matters, consuming the active token and making the next
 * one active, is a single atomic compare-and-set (`rotate`).
 */
export interface RefreshTokenRecord {
  familyId: string
  clientId: string
  /** Hash of the token this one replaced; null for the first token of a family. */
  parent: string | null
  /** ms since the epoch. */
  issuedAt: number
  /** The token dies at this time (idle lifetime from issue, capped by the family's). */
  expiresAt: number
  /** The family dies at this time (absolute lifetime from the first token). */
  familyExpiresAt: number
  /** The caller's grant, as JSON. */
  grant: string
}

export type TokenStatus = 'active' | 'consumed'

export interface FoundToken {
  record: RefreshTokenRecord
  status: TokenStatus
  familyRevoked: boolean
}

/**
 * What `rotate` did: `rotated` (the token was active; it is consumed and
 * `next` is active), `reused` (the token was already consumed: the family is
 * now revoked), `revoked` (the family was revoked before), `missing`
 * (token or family unknown or expired).
 */
export type RotateOutcome = 'rotated' | 'reused' | 'revoked' | 'missing'

export interface RefreshStore {
  /** Starts a family with its first, active token; both kept for `ttlMs` (the family's lifetime). */
  create(hash: string, record: RefreshTokenRecord, ttlMs: number): Promise<void>
  /** The token and its status, or undefined when unknown or expired. */
  find(hash: string): Promise<FoundToken | undefined>
  /**
   * Atomically: if `hash` is the active token of `next.familyId` and the
   * family is not revoked, marks it consumed and stores `nextHash` as the
   * family's active token (kept for `ttlMs`); if it is consumed, revokes the
   * family.
   */
  rotate(hash: string, nextHash: string, next: RefreshTokenRecord, ttlMs: number): Promise<RotateOutcome>
  /** Revokes a family: none of its tokens rotates again. False when it is unknown or already revoked. */
  revoke(familyId: string): Promise<boolean>
  close?(): Promise<void>
}

export interface MemoryRefreshStoreOptions {
  /** Tokens held at most (default 100 000); families are held up to the same number. */
  maxKeys?: number
  /** Clock, ms since the epoch; must be the clock `createRefreshTokens` uses. */
  now?: () => number
}

interface MemoryFamily {
  revoked: boolean
  tokens: Map<string, TokenStatus>
}

/**
 * Refresh tokens in this process, on a BoundedMap: the embedded default, for
 * one instance. When full, the oldest entries go first: an evicted family's
 * user logs in again, an evicted consumed token is unknown (so refused, but
 * without revoking its family). Size `maxKeys` for the tokens of one
 * absolute lifetime, or use Redis.
 */
export class MemoryRefreshStore implements RefreshStore {
  readonly #tokens: BoundedMap<RefreshTokenRecord>
  readonly #families: BoundedMap<MemoryFamily>

  constructor (options: MemoryRefreshStoreOptions = {}) {
    const map = { maxKeys: options.maxKeys ?? 100_000, ...(options.now === undefined ? {} : { now: options.now }) }
    this.#tokens = new BoundedMap<RefreshTokenRecord>(map)
    this.#families = new BoundedMap<MemoryFamily>(map)
  }

  async create (hash: string, record: RefreshTokenRecord, ttlMs: number): Promise<void> {
    this.#families.set(record.familyId, { revoked: false, tokens: new Map([[hash, 'active']]) }, ttlMs)
    this.#tokens.set(hash, record, ttlMs)
  }

  async find (hash: string): Promise<FoundToken | undefined> {
    const record = this.#tokens.get(hash)
    if (record === undefined) return undefined
    // The family may have been evicted before this token's record.
    const family = this.#families.get(record.familyId)
    if (family === undefined) return undefined
    // Records and statuses are written together, so a live family knows each of its tokens.
    return { record, status: family.tokens.get(hash) as TokenStatus, familyRevoked: family.revoked }
  }

  // No await inside: the check and the set run in one turn of the event loop, which is atomic here.
  async rotate (hash: string, nextHash: string, next: RefreshTokenRecord, ttlMs: number): Promise<RotateOutcome> {
    const family = this.#families.get(next.familyId)
    const status = family?.tokens.get(hash)
    if (family === undefined || status === undefined) return 'missing'
    if (family.revoked) return 'revoked'
    if (status === 'consumed') {
      family.revoked = true
      return 'reused'
    }
    family.tokens.set(hash, 'consumed')
    family.tokens.set(nextHash, 'active')
    this.#tokens.set(nextHash, next, ttlMs)
    return 'rotated'
  }

  async revoke (familyId: string): Promise<boolean> {
    const family = this.#families.get(familyId)
    if (family === undefined || family.revoked) return false
    family.revoked = true
    return true
  }
}

// One Redis hash per family, `<prefix>f:{<familyId>}`, holds the family's
// status and every token's (`t:<hash>` → active | consumed): each script
// below touches that one key, so it is atomic and Redis Cluster routes it by
// the family's hash tag. A token's immutable record sits at
// `<prefix>t:{<hash>}`: rotation starts from the token alone, so that lookup
// key cannot carry the family's tag (it is a single-key GET, fine on a
// cluster). Both expire with the family.
const CREATE_LUA = `
redis.call('HSET', KEYS[1], 'status', 'active', 't:' .. ARGV[1], 'active')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`
const ROTATE_LUA = `
local family = redis.call('HGET', KEYS[1], 'status')
local token = redis.call('HGET', KEYS[1], 't:' .. ARGV[1])
if not family or not token then return 'missing' end
if family ~= 'active' then return 'revoked' end
if token ~= 'active' then
  redis.call('HSET', KEYS[1], 'status', 'revoked')
  return 'reused'
end
redis.call('HSET', KEYS[1], 't:' .. ARGV[1], 'consumed', 't:' .. ARGV[2], 'active')
return 'rotated'
`
const REVOKE_LUA = `
if redis.call('HGET', KEYS[1], 'status') ~= 'active' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'revoked')
return 1
`

interface RefreshClient extends Redis {
  rampartRefreshCreate(family: string, hash: string, ttlMs: string): Promise<number>
  rampartRefreshRotate(family: string, hash: string, nextHash: string): Promise<RotateOutcome>
  rampartRefreshRevoke(family: string): Promise<number>
}

export interface RedisRefreshStoreOptions {
  /** An ioredis client (used as it is, left open) or a redis:// URL (we connect, with fail-fast settings, and close). */
  redis: Redis | string
  /** Key prefix; default `rampart:rt:`. */
  prefix?: string
  /** No call waits longer than this; default 1000 ms. */
  timeoutMs?: number
  /** Logs connection errors of a client created from a URL. */
  log?: { error: (...args: unknown[]) => void }
}

/** Refresh tokens shared by every instance on one Redis (or Redis Cluster, or Valkey). */
export class RedisRefreshStore implements RefreshStore {
  readonly #connection: RedisConnection
  readonly #client: RefreshClient
  readonly #prefix: string
  readonly #timeoutMs: number
  #ready: Promise<boolean> | undefined

  constructor (options: RedisRefreshStoreOptions) {
    const log = (options.log ?? { error: (_obj: unknown, msg: string) => console.error(msg) }) as Parameters<typeof connectRedis>[1]['log']
    this.#connection = connectRedis(options.redis, { log, purpose: 'refresh token' })
    this.#client = this.#connection.client as RefreshClient
    this.#prefix = options.prefix ?? 'rampart:rt:'
    this.#timeoutMs = options.timeoutMs ?? 1000
    // defineCommand runs EVALSHA and loads the script on NOSCRIPT.
    if (typeof this.#client.rampartRefreshRotate !== 'function') {
      this.#client.defineCommand('rampartRefreshCreate', { numberOfKeys: 1, lua: CREATE_LUA })
      this.#client.defineCommand('rampartRefreshRotate', { numberOfKeys: 1, lua: ROTATE_LUA })
      this.#client.defineCommand('rampartRefreshRevoke', { numberOfKeys: 1, lua: REVOKE_LUA })
    }
  }

  /** The family's key (hash-tagged by family id). */
  familyKey (familyId: string): string {
    return taggedKey(`${this.#prefix}f:`, familyId)
  }

  /** The token record's key (hash-tagged by token hash). */
  tokenKey (hash: string): string {
    return taggedKey(`${this.#prefix}t:`, hash)
  }

  async create (hash: string, record: RefreshTokenRecord, ttlMs: number): Promise<void> {
    const px = String(Math.ceil(ttlMs))
    await this.#call(async (c) => {
      await c.set(this.tokenKey(hash), JSON.stringify(record), 'PX', px)
      await c.rampartRefreshCreate(this.familyKey(record.familyId), hash, px)
    })
  }

  async find (hash: string): Promise<FoundToken | undefined> {
    return this.#call(async (c) => {
      const json = await c.get(this.tokenKey(hash))
      if (json === null) return undefined
      const record = JSON.parse(json) as RefreshTokenRecord
      const [family, status] = await c.hmget(this.familyKey(record.familyId), 'status', `t:${hash}`)
      if (family === null || status === null) return undefined
      return { record, status: status as TokenStatus, familyRevoked: family !== 'active' }
    })
  }

  async rotate (hash: string, nextHash: string, next: RefreshTokenRecord, ttlMs: number): Promise<RotateOutcome> {
    return this.#call(async (c) => {
      // The record first: once the script makes the token active, it can be found.
      await c.set(this.tokenKey(nextHash), JSON.stringify(next), 'PX', String(Math.ceil(ttlMs)))
      const outcome = await c.rampartRefreshRotate(this.familyKey(next.familyId), hash, nextHash)
      if (outcome !== 'rotated') await c.del(this.tokenKey(nextHash))
      return outcome
    })
  }

  async revoke (familyId: string): Promise<boolean> {
    return this.#call(async (c) => (await c.rampartRefreshRevoke(this.familyKey(familyId))) === 1)
  }

  async close (): Promise<void> {
    await this.#connection.close()
  }

  async #call<T> (fn: (client: RefreshClient) => Promise<T>): Promise<T> {
    // A client we created has no offline queue: the first calls wait for the connection (within the same timeout).
    if (this.#connection.owned && this.#client.status !== 'ready') {
      this.#ready ??= this.#connection.ready(this.#timeoutMs).finally(() => { this.#ready = undefined })
      const ready = this.#ready
      return withTimeout(ready.then(() => fn(this.#client)), this.#timeoutMs)
    }
    return withTimeout(fn(this.#client), this.#timeoutMs)
  }
}
