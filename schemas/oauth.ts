import type { Redis } from 'ioredis'
import Type, { type Static, type TUnsafe } from 'typebox'
import { DURATION_PATTERN } from '../lib/duration.js'
import { RedisOption } from '../lib/redis.js'
import type { RefreshStore } from '../oauth/refresh-store.js'

/** Milliseconds, or a string such as `'30m'`, `'14d'`. */
const Duration = Type.Union([
  Type.Integer({ minimum: 1 }),
  Type.String({ pattern: DURATION_PATTERN, errorMessage: "must be a duration like '30s', '15m', '1h', '14d'" }),
])

/** Where refresh tokens live: `'memory'` (one process), `{ redis, prefix?, timeoutMs? }`, or a `RefreshStore` of yours. */
const StoreOption: TUnsafe<'memory' | RefreshRedisStoreOptions | RefreshStore> = Type.Unsafe<'memory' | RefreshRedisStoreOptions | RefreshStore>({
  anyOf: [{ const: 'memory' }, { type: 'object' }],
  errorMessage: "must be 'memory', { redis, prefix?, timeoutMs? } or a store object",
  default: 'memory',
})

export const RefreshTokensOptionsSchema = Type.Object(
  {
    store: Type.Optional(StoreOption),
    /** A family (the chain of rotated tokens from one login) dies this long after it was created. */
    absoluteLifetime: Type.Optional(Type.Union(Duration.anyOf, { default: '30d' })),
    /** A token dies this long after it was issued unless rotated first. */
    idleLifetime: Type.Optional(Type.Union(Duration.anyOf, { default: '14d' })),
    /** Clock, ms since the epoch; for tests. */
    now: Type.Optional(Type.Unsafe<() => number>({ type: 'function', errorMessage: 'must be a function () => number' })),
    /** Logger for connection errors of a Redis client created from a URL (`app.log`); default: console. */
    log: Type.Optional(Type.Unsafe<{ error: (...args: unknown[]) => void }>({ type: 'object', errorMessage: 'must be a logger such as app.log' })),
  },
  { additionalProperties: false }
)

export const RefreshRedisStoreSchema = Type.Object(
  {
    redis: RedisOption,
    prefix: Type.Optional(Type.String({ default: 'rampart:rt:', pattern: '^[^{}]*$', errorMessage: 'must not contain { or }' })),
    /** No call waits longer than this for Redis. */
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 })),
  },
  { additionalProperties: false }
)

export const RedirectUriMatcherOptionsSchema = Type.Object(
  {
    /** RFC 8252 §7.3: a loopback `http` registration matches any port (native apps listen on an ephemeral one). */
    native: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false }
)

export const RegisteredRedirectUrisSchema = Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })])

export interface RefreshRedisStoreOptions {
  redis: Redis | string
  prefix?: string
  timeoutMs?: number
}

export type RefreshTokensOptions = Static<typeof RefreshTokensOptionsSchema>
export type RedirectUriMatcherOptions = Static<typeof RedirectUriMatcherOptionsSchema>
