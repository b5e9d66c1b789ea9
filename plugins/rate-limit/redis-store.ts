import { Redis, type RedisOptions } from 'ioredis'
import { decide, type GcraDecision, type GcraParams, intervalMs } from './gcra.js'
import type { RateLimitStore } from './store.js'
import { withTimeout } from '../../lib/with-timeout.js'

// The GCRA decision as one Lua script, so check-and-update is atomic across
// every instance sharing the Redis, with Redis's own clock (TIME), so
// instances with skewed clocks agree. It mirrors gcra.ts `decide`; the
// JavaScript side turns the returned debt into headers with the same code.
// Returns { allowed (1|0), debt before (ms, as a string: Lua numbers would
// be truncated to integers) }.
const GCRA_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]))
local before = 0
if tat ~= nil and tat > now then before = tat - now end
local debt = before + interval * cost
if debt <= capacity + 0.000001 then
  redis.call('SET', KEYS[1], string.format('%.3f', now + debt), 'PX', math.ceil(debt))
  return { 1, string.format('%.3f', before) }
end
return { 0, string.format('%.3f', before) }
`

/** Connection settings for a limiter: fail fast rather than queue or wait. */
export const LIMITER_REDIS_OPTIONS: RedisOptions = {
  commandTimeout: 100,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 1000,
  retryStrategy: (times) => Math.min(times * 100, 1000),
  // Checks from concurrent requests go out in one write, not a syscall each.
  enableAutoPipelining: true,
}

interface GcraClient extends Redis {
  rampartGcra(key: string, interval: string, capacity: string, cost: string): Promise<[number, string]>
}

export interface RedisStoreOptions {
  /** An ioredis client (yours, configured as you like), or a redis:// URL we connect with LIMITER_REDIS_OPTIONS. */
  redis: Redis | string
  prefix: string
  timeoutMs: number
}

/** `{` and `}` in keys would make Redis Cluster hash only part of them: escape them, and tag the whole bucket. */
export function redisKey (prefix: string, key: string): string {
  return `${prefix}{${key.replace(/[%{}]/g, (c) => (c === '%' ? '%25' : c === '{' ? '%7B' : '%7D'))}}`
}

export class RedisStore implements RateLimitStore {
  readonly client: GcraClient
  readonly #owned: boolean
  readonly #prefix: string
  readonly #timeoutMs: number

  constructor (options: RedisStoreOptions) {
    this.#owned = typeof options.redis === 'string'
    this.client = (
      typeof options.redis === 'string'
        ? new Redis(options.redis, { ...LIMITER_REDIS_OPTIONS, commandTimeout: options.timeoutMs })
        : options.redis
    ) as GcraClient
    this.#prefix = options.prefix
    this.#timeoutMs = options.timeoutMs
    // defineCommand runs EVALSHA and loads the script on NOSCRIPT.
    if (typeof this.client.rampartGcra !== 'function') {
      this.client.defineCommand('rampartGcra', { numberOfKeys: 1, lua: GCRA_LUA })
    }
  }

  async consume (key: string, params: GcraParams, cost: number): Promise<GcraDecision> {
    const [interval, capacity] = this.#argsOf(params)
    const call = this.client.rampartGcra(redisKey(this.#prefix, key), interval, capacity, String(cost))
    // A client we created enforces the timeout itself (commandTimeout); one we were given may not.
    const [allowed, before] = await (this.#owned ? call : withTimeout(call, this.#timeoutMs))
    const decision = decide(Number(before), params, cost)
    // Redis decided; a float rounding difference must not flip its answer.
    decision.allowed = allowed === 1
    return decision
  }

  /**
   * Resolves once the client is ready, or after `ms` (never rejects): the
   * first requests should reach Redis, not the fallback, but a Redis that is
   * down at startup must not stop the app from starting.
   */
  async ready (ms: number): Promise<boolean> {
    if (this.client.status === 'ready') return true
    let timer: NodeJS.Timeout | undefined
    let onReady: (() => void) | undefined
    const ready = await Promise.race([
      new Promise<boolean>((resolve) => {
        onReady = () => resolve(true)
        this.client.once('ready', onReady)
      }),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms)
      }),
    ])
    clearTimeout(timer)
    this.client.off('ready', onReady as () => void)
    return ready
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

  async close (): Promise<void> {
    if (this.#owned) await this.client.quit().catch(() => this.client.disconnect())
  }
}
