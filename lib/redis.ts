import type { FastifyBaseLogger } from 'fastify'
import { Redis, type RedisOptions } from 'ioredis'
import Type, { type TUnsafe } from 'typebox'
import { createLogLimiter } from './log-limiter.js'

/**
 * Redis connection settings for anything on a request's path (limits,
 * replay claims, one-time state): fail fast rather than queue or wait, so a
 * Redis outage costs a request a bounded wait, never a hang.
 */
export const FAST_REDIS_OPTIONS: RedisOptions = {
  commandTimeout: 100,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 1000,
  retryStrategy: (times) => Math.min(times * 100, 1000),
  // Commands from concurrent requests go out in one write, not a syscall each.
  enableAutoPipelining: true,
}

/** Schema for a `redis` option: a client the user configured, or a redis:// URL we connect with. */
export const RedisOption: TUnsafe<Redis | string> = Type.Unsafe<Redis | string>({
  anyOf: [{ type: 'string', pattern: '^rediss?://' }, { type: 'object' }],
  errorMessage: 'must be an ioredis client or a redis:// URL',
})

export interface RedisConnection {
  client: Redis
  /** True when we created the client (from a URL): then we listen for its errors and close it. */
  owned: boolean
  /** Resolves once the client is ready, or false after `ms`; never rejects. */
  ready(ms: number): Promise<boolean>
  /** Closes a client we own without waiting on a Redis that is down; leaves the user's client alone. */
  close(): Promise<void>
}

export interface ConnectRedisOptions {
  /** Logger for connection errors of clients we own (one line per 10 s at most). */
  log: FastifyBaseLogger
  /** What the connection is for, in log lines: 'rate limit', 'webhook replay', ... */
  purpose: string
  /** Overrides of FAST_REDIS_OPTIONS for a client we create. */
  options?: RedisOptions
}

const ERROR_LOG_INTERVAL_MS = 10_000

/**
 * One place where the suite turns a `redis` option into a client. A URL gets
 * FAST_REDIS_OPTIONS and an `error` listener that logs through Fastify's
 * logger, rate-limited (ioredis otherwise prints "Unhandled error event"
 * with a stack to stderr on every reconnect attempt). A client the user
 * passed is used as it is: its error handling is theirs.
 */
export function connectRedis (redis: Redis | string, options: ConnectRedisOptions): RedisConnection {
  const owned = typeof redis === 'string'
  const client = typeof redis === 'string' ? new Redis(redis, { ...FAST_REDIS_OPTIONS, ...options.options }) : redis
  if (owned) {
    const limiter = createLogLimiter(ERROR_LOG_INTERVAL_MS)
    client.on('error', (err: Error) => {
      const suppressed = limiter.take()
      if (suppressed >= 0) {
        options.log.error({ err: { message: err.message, code: (err as { code?: string }).code }, suppressed }, `fastify-rampart: the ${options.purpose} Redis connection failed`)
      }
    })
  }
  return {
    client,
    owned,
    ready: (ms) => whenReady(client, ms),
    async close () {
      if (!owned) return
      // quit() waits for a reply that a Redis that is down never sends.
      if (client.status !== 'ready') {
        client.disconnect()
        return
      }
      await client.quit().catch(() => client.disconnect())
    },
  }
}

async function whenReady (client: Redis, ms: number): Promise<boolean> {
  if (client.status === 'ready') return true
  let timer: NodeJS.Timeout | undefined
  let onReady: (() => void) | undefined
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => {
      onReady = () => resolve(true)
      client.once('ready', onReady)
    }),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms)
    }),
  ])
  clearTimeout(timer)
  client.off('ready', onReady as () => void)
  return ready
}

/** `{` and `}` in keys would make Redis Cluster hash only part of them: escape them, and tag the whole key. */
export function taggedKey (prefix: string, key: string): string {
  return `${prefix}{${key.replace(/[%{}]/g, (c) => (c === '%' ? '%25' : c === '{' ? '%7B' : '%7D'))}}`
}
