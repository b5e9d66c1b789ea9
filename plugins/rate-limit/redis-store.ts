import type { FastifyBaseLogger } from 'fastify'
import type { Redis, RedisOptions } from 'ioredis'
import { connectRedis, FAST_REDIS_OPTIONS, type RedisConnection, taggedKey } from '../../lib/redis.js'
import { Deadlines } from '../../lib/with-timeout.js'
import { type GcraDecision, type GcraParams, intervalMs } from './gcra.js'
import { GCRA_BATCH_LUA, GcraBatcher, hashSlot } from './redis-batch.js'
import type { RateLimitStore } from './store.js'

// The sliding log of strict buckets (sliding-log.ts `decideLog`), as one
// script with Redis TIME: the log is a string of "ms:cost" pairs, oldest
// first, at most `limit` of them, expiring with its newest entry. Returns
// { allowed, remaining, resetMs, retryAfterMs } (integers).
const SLIDING_LOG_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local at, cs = {}, {}
local used = 0
local raw = redis.call('GET', KEYS[1])
if raw then
  for a, c in string.gmatch(raw, '(%d+):(%d+)') do
    local when = tonumber(a)
    if when > now - window then
      at[#at + 1] = when
      cs[#cs + 1] = tonumber(c)
      used = used + tonumber(c)
    end
  end
end
if used + cost <= limit then
  local left = math.min(limit, math.max(0, limit - used - cost))
  if cost >= 0 then
    at[#at + 1] = now
    cs[#cs + 1] = cost
  else
    local units = -cost
    while units > 0 and #at > 0 do
      local taken = math.min(units, cs[#cs])
      cs[#cs] = cs[#cs] - taken
      units = units - taken
      if cs[#cs] == 0 then
        at[#at] = nil
        cs[#cs] = nil
      end
    end
  end
  if #at == 0 then
    redis.call('DEL', KEYS[1])
    return { 1, left, 0, 0 }
  end
  local parts = {}
  for i = 1, #at do parts[i] = at[i] .. ':' .. cs[i] end
  local reset = at[#at] + window - now
  redis.call('SET', KEYS[1], table.concat(parts, ','), 'PX', reset)
  return { 1, left, reset, 0 }
end
local need = used + cost - limit
local freed = 0
local retry = -1
for i = 1, #at do
  freed = freed + cs[i]
  if freed >= need then
    retry = at[i] + window - now
    break
  end
end
return { 0, math.max(0, limit - used), retry, retry }
`

/**
 * Connection settings for a limiter: fail fast rather than queue or wait.
 * Kept as an export for clients users build themselves; rampart's own
 * client comes from lib/redis.ts `connectRedis` with the same settings,
 * but without auto-pipelining (the batcher already sends one command per
 * event-loop iteration; a client you pass may be shared with other work,
 * where auto-pipelining still helps).
 */
export const LIMITER_REDIS_OPTIONS: RedisOptions = { ...FAST_REDIS_OPTIONS }

interface LimiterClient extends Redis {
  rampartGcraBatch(keyCount: number, keys: string[], args: string[]): Promise<number[]>
  rampartSlidingLog(key: string, window: string, limit: string, cost: string): Promise<[number, number, number, number]>
}

export interface RedisStoreOptions {
  /** An ioredis client (yours, configured as you like), or a redis:// URL we connect with LIMITER_REDIS_OPTIONS. */
  redis: Redis | string
  prefix: string
  timeoutMs: number
  /** Where a client we create logs its connection errors (rate-limited). */
  log?: FastifyBaseLogger
}

/** `{` and `}` in keys would make Redis Cluster hash only part of them: escape them, and tag the whole bucket. */
export function redisKey (prefix: string, key: string): string {
  return taggedKey(prefix, key)
}

/* c8 ignore next -- the plugin always passes its logger; a store built by hand without one stays quiet */
const SILENT = { error: () => {} } as unknown as FastifyBaseLogger

export class RedisStore implements RateLimitStore {
  readonly client: LimiterClient
  readonly #connection: RedisConnection
  readonly #prefix: string
  readonly #deadlines: Deadlines
  readonly #batcher: GcraBatcher

  constructor (options: RedisStoreOptions) {
    // Every call, on our client or yours, is bounded by #deadlines from the
    // moment it is made: with auto-pipelining a command can queue behind a
    // batch that is already timing out, and the client's own timer would
    // only start when that batch fails (measured: up to twice the bound).
    this.#connection = connectRedis(options.redis, {
      log: options.log ?? SILENT,
      purpose: 'rate limit',
      options: {
        // ioredis's own timer only cleans up; #deadlines is the bound.
        commandTimeout: options.timeoutMs + 100,
        // The batcher already sends one command per event-loop iteration:
        // auto-pipelining would only wrap each in a Pipeline of its own.
        enableAutoPipelining: false,
      },
    })
    this.client = this.#connection.client as LimiterClient
    this.#prefix = options.prefix
    this.#deadlines = new Deadlines(options.timeoutMs)
    // defineCommand runs EVALSHA and loads the script on NOSCRIPT.
    if (typeof this.client.rampartGcraBatch !== 'function') {
      this.client.defineCommand('rampartGcraBatch', { lua: GCRA_BATCH_LUA })
    }
    if (typeof this.client.rampartSlidingLog !== 'function') {
      this.client.defineCommand('rampartSlidingLog', { numberOfKeys: 1, lua: SLIDING_LOG_LUA })
    }
    const client = this.client
    // A Cluster takes one call per hash slot; ioredis prefixes keys with keyPrefix before hashing them.
    const keyPrefix = client.options.keyPrefix ?? ''
    this.#batcher = new GcraBatcher({
      send: (keys, args) => client.rampartGcraBatch(keys.length, keys, args),
      slotOf: client.isCluster ? (key) => hashSlot(keyPrefix + key) : undefined,
      deadlines: this.#deadlines,
    })
  }

  consume (key: string, params: GcraParams, cost: number): Promise<GcraDecision> {
    const [interval, capacity] = this.#argsOf(params)
    return this.#batcher.check(redisKey(this.#prefix, key), interval, capacity, params, cost)
  }

  /** A strict bucket's check: the sliding log, atomically, on Redis's clock; one call each. */
  async consumeStrict (key: string, params: GcraParams, cost: number): Promise<GcraDecision> {
    const call = this.client.rampartSlidingLog(redisKey(this.#prefix, key), String(params.windowMs), String(params.limit), String(cost))
    const [allowed, remaining, resetMs, retryAfterMs] = await this.#deadlines.bound(call)
    const wait = retryAfterMs < 0 ? Number.POSITIVE_INFINITY : retryAfterMs
    return { allowed: allowed === 1, debtMs: 0, remaining, resetMs: allowed === 1 ? resetMs : wait, retryAfterMs: allowed === 1 ? 0 : wait }
  }

  /**
   * Resolves once the client is ready, or after `ms` (never rejects): the
   * first requests should reach Redis, not the fallback, but a Redis that is
   * down at startup must not stop the app from starting.
   */
  async ready (ms: number): Promise<boolean> {
    return this.#connection.ready(ms)
  }

  // A bucket's params object lives as long as its route: format its script arguments once.
  readonly #args = new WeakMap<GcraParams, [string, string]>()

  #argsOf (params: GcraParams): [string, string] {
    let args = this.#args.get(params)
    if (args === undefined) {
      const interval = intervalMs(params)
      args = [String(interval), String(interval * params.burst)]
      this.#args.set(params, args)
    }
    return args
  }

  /** Closes a client we created (at once when Redis is down); leaves yours open. */
  async close (): Promise<void> {
    await this.#connection.close()
  }
}
