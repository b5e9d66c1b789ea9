import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import { BoundedMap } from './bounded-map.js'
import { taggedKey } from './redis.js'
import { withTimeout } from './with-timeout.js'

/**
 * "Claim this key once": the one-time store behind webhook replay
 * protection and idempotency, and OIDC's single-use state. A claim starts
 * pending (someone is processing it), then is completed (kept, so a repeat
 * is recognised) or released (deleted, so a retry may claim it again).
 * Only the claim's owner can complete or release it: a late failure of the
 * first attempt must not free a claim a second attempt now holds.
 */
export type ClaimState = 'pending' | 'done'

export type ClaimResult =
  | { claimed: true; owner: string }
  | { claimed: false; state: ClaimState }

export interface ClaimStore {
  /** Claims `key` for `pendingMs`, or says who holds it. */
  claim(key: string, pendingMs: number): Promise<ClaimResult>
  /** Marks the owner's claim done and keeps it for `ttlMs`. False when the owner no longer holds it. */
  complete(key: string, owner: string, ttlMs: number): Promise<boolean>
  /** Deletes the owner's pending claim. False when the owner no longer holds it. */
  release(key: string, owner: string): Promise<boolean>
  close?(): Promise<void>
}

function newOwner (): string {
  return randomBytes(12).toString('base64url')
}

export interface MemoryClaimStoreOptions {
  maxKeys: number
  now?: () => number
}

interface Claim {
  owner: string
  state: ClaimState
}

/**
 * Claims in a bounded in-process map. Pending claims are never evicted; a
 * completed claim is, oldest first, when room is needed (the map is the
 * replay window's memory: make maxKeys cover the deliveries of one TTL).
 * When the map is full of pending claims, `claim` throws: the caller
 * refuses the request rather than process it without replay protection.
 */
export class MemoryClaimStore implements ClaimStore {
  readonly #claims: BoundedMap<Claim>

  constructor (options: MemoryClaimStoreOptions) {
    const map = { maxKeys: options.maxKeys, canEvict: (c: Claim) => c.state === 'done' }
    this.#claims = new BoundedMap<Claim>(options.now === undefined ? map : { ...map, now: options.now })
  }

  get size (): number {
    return this.#claims.size
  }

  async claim (key: string, pendingMs: number): Promise<ClaimResult> {
    const held = this.#claims.get(key)
    if (held !== undefined) return { claimed: false, state: held.state }
    const owner = newOwner()
    if (!this.#claims.set(key, { owner, state: 'pending' }, pendingMs)) {
      throw new Error('claim store is full of pending claims')
    }
    return { claimed: true, owner }
  }

  async complete (key: string, owner: string, ttlMs: number): Promise<boolean> {
    const held = this.#claims.get(key)
    if (held?.owner !== owner || held.state !== 'pending') return false
    return this.#claims.set(key, { owner, state: 'done' }, ttlMs)
  }

  async release (key: string, owner: string): Promise<boolean> {
    const held = this.#claims.get(key)
    if (held?.owner !== owner || held.state !== 'pending') return false
    return this.#claims.delete(key)
  }
}

// Values are `p:<owner>` (pending) or `d:<owner>` (done). Each operation is
// one atomic step on Redis, so instances sharing it agree on who holds what.
const CLAIM_LUA = `
if redis.call('SET', KEYS[1], 'p:' .. ARGV[1], 'NX', 'PX', ARGV[2]) then return 'claimed' end
return redis.call('GET', KEYS[1]) or 'claimed-retry'
`
const COMPLETE_LUA = `
if redis.call('GET', KEYS[1]) ~= 'p:' .. ARGV[1] then return 0 end
redis.call('SET', KEYS[1], 'd:' .. ARGV[1], 'PX', ARGV[2])
return 1
`
const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) ~= 'p:' .. ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`

interface ClaimClient extends Redis {
  rampartClaim(key: string, owner: string, pendingMs: string): Promise<string>
  rampartClaimComplete(key: string, owner: string, ttlMs: string): Promise<number>
  rampartClaimRelease(key: string, owner: string): Promise<number>
}

export interface RedisClaimStoreOptions {
  client: Redis
  /** Key prefix, e.g. `rampart:webhook:`. */
  prefix: string
  /** No call waits longer than this. */
  timeoutMs: number
}

/** Claims shared by every instance on one Redis (SET NX PX; complete and release only by the owner). */
export class RedisClaimStore implements ClaimStore {
  readonly #client: ClaimClient
  readonly #prefix: string
  readonly #timeoutMs: number

  constructor (options: RedisClaimStoreOptions) {
    this.#client = options.client as ClaimClient
    this.#prefix = options.prefix
    this.#timeoutMs = options.timeoutMs
    // defineCommand runs EVALSHA and loads the script on NOSCRIPT.
    if (typeof this.#client.rampartClaim !== 'function') {
      this.#client.defineCommand('rampartClaim', { numberOfKeys: 1, lua: CLAIM_LUA })
      this.#client.defineCommand('rampartClaimComplete', { numberOfKeys: 1, lua: COMPLETE_LUA })
      this.#client.defineCommand('rampartClaimRelease', { numberOfKeys: 1, lua: RELEASE_LUA })
    }
  }

  async claim (key: string, pendingMs: number): Promise<ClaimResult> {
    const owner = newOwner()
    const answer = await withTimeout(this.#client.rampartClaim(taggedKey(this.#prefix, key), owner, String(Math.ceil(pendingMs))), this.#timeoutMs)
    if (answer === 'claimed') return { claimed: true, owner }
    // The key expired between SET NX and GET: it was held a moment ago; a retry will claim it.
    if (answer === 'claimed-retry') return { claimed: false, state: 'pending' }
    return { claimed: false, state: answer.startsWith('d:') ? 'done' : 'pending' }
  }

  async complete (key: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await withTimeout(this.#client.rampartClaimComplete(taggedKey(this.#prefix, key), owner, String(Math.ceil(ttlMs))), this.#timeoutMs)) === 1
  }

  async release (key: string, owner: string): Promise<boolean> {
    return (await withTimeout(this.#client.rampartClaimRelease(taggedKey(this.#prefix, key), owner), this.#timeoutMs)) === 1
  }
}
