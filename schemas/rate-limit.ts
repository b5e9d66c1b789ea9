import type { FastifyRequest } from 'fastify'
import Type, { type Static, type TUnsafe } from 'typebox'
import type { Redis } from 'ioredis'
import { DURATION_PATTERN } from '../lib/duration.js'
import type { RateLimitStore } from '../plugins/rate-limit/store.js'

/** Milliseconds, or a string such as `'30s'`, `'1m'`, `'15m'`, `'1h'`, `'1d'`. */
const Duration = Type.Union([
  Type.Integer({ minimum: 1 }),
  Type.String({ pattern: DURATION_PATTERN, errorMessage: "must be a duration like '30s', '15m', '1h', '1d'" }),
])
const Name = Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', errorMessage: 'must be 1-64 letters, digits, ".", "_" or "-"' })
const RequestFn = <T>(returns: string) =>
  Type.Unsafe<(request: FastifyRequest) => T>({ type: 'function', errorMessage: `must be a function (request) => ${returns}` })

const Limits = {
  /** Requests per window (the sustained rate). */
  limit: Type.Integer({ minimum: 1 }),
  window: Duration,
  /** Requests that may come at once; default: `limit`. */
  burst: Type.Optional(Type.Integer({ minimum: 1 })),
}

const RedisClient: TUnsafe<Redis | string> = Type.Unsafe<Redis | string>({
  anyOf: [{ type: 'string', pattern: '^rediss?://' }, { type: 'object' }],
  errorMessage: 'must be an ioredis client or a redis:// URL',
})

export const RateLimitOptionsSchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, default: 100 })),
    window: Type.Optional(Type.Union(Duration.anyOf, { default: '1m' })),
    burst: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Name in RateLimit / RateLimit-Policy for the plugin-wide bucket. */
    name: Type.Optional(Type.String({ ...Name, default: 'default' })),
    /** Where the check runs; default `onRequest`, or `preHandler` when `principal` is set (after authentication). */
    hook: Type.Optional(
      Type.Union([Type.Literal('onRequest'), Type.Literal('preParsing'), Type.Literal('preValidation'), Type.Literal('preHandler')])
    ),
    /** Token / user / API key id of an authenticated request, or undefined: each principal gets its own bucket too. */
    principal: Type.Optional(RequestFn<string | undefined>('string | undefined')),
    tiers: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }), Type.Object(Limits, { additionalProperties: false }))),
    /** Picks a tier name per request (from the authenticated user's plan, say). */
    tier: Type.Optional(RequestFn<string | undefined>('string | undefined')),
    /** Never limited: IPs / CIDRs matched against request.ip, or a function. */
    allowList: Type.Optional(Type.Union([Type.Array(Type.String()), RequestFn<boolean>('boolean')])),
    ipv6Prefix: Type.Optional(Type.Integer({ minimum: 32, maximum: 128, default: 64 })),
    /** Header families: IETF draft (RateLimit, RateLimit-Policy), legacy X-RateLimit-*, both, or none. */
    headers: Type.Optional(
      Type.Union([Type.Literal('both'), Type.Literal('draft'), Type.Literal('legacy'), Type.Literal(false)], { default: 'both' })
    ),
    store: Type.Optional(
      Type.Object(
        {
          redis: Type.Optional(RedisClient),
          /** Your own store (Valkey works through `redis`; Memcached, DynamoDB, ... through this). */
          custom: Type.Optional(
            Type.Unsafe<RateLimitStore>({ type: 'object', errorMessage: 'must be an object with a consume(key, params, cost) method' })
          ),
          prefix: Type.Optional(Type.String({ default: 'rampart:rl:', pattern: '^[^{}]*$', errorMessage: 'must not contain { or }' })),
          /** No request waits longer than this for the store. */
          timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 100 })),
        },
        { additionalProperties: false }
      )
    ),
    /** Keys the memory store (and the Redis fallback) holds at most. */
    maxKeys: Type.Optional(Type.Integer({ minimum: 1, default: 100_000 })),
    /** When the store fails: a local memory limiter stands in, let requests through, or answer 503. */
    onStoreError: Type.Optional(
      Type.Union([Type.Literal('memory'), Type.Literal('open'), Type.Literal('closed')], { default: 'memory' })
    ),
    acknowledgeTrustAllProxies: Type.Optional(Type.Boolean({ default: false })),
    /** Clock for the memory store (ms since the epoch); for tests. */
    now: Type.Optional(Type.Unsafe<() => number>({ type: 'function', errorMessage: 'must be a function () => number' })),
  },
  { additionalProperties: false }
)

export const RateLimitRouteSchema = Type.Union([
  Type.Literal(false),
  Type.Object(
    {
      limit: Type.Optional(Type.Integer({ minimum: 1 })),
      window: Type.Optional(Duration),
      burst: Type.Optional(Type.Integer({ minimum: 1 })),
      /** Units this route's requests use. */
      cost: Type.Optional(Type.Integer({ minimum: 1 })),
      /** Routes with the same group share one bucket. */
      group: Type.Optional(Name),
      /** Check in this hook for this route (e.g. preHandler, after the route's own auth). */
      hook: Type.Optional(
        Type.Union([Type.Literal('onRequest'), Type.Literal('preParsing'), Type.Literal('preValidation'), Type.Literal('preHandler')])
      ),
    },
    { additionalProperties: false }
  ),
])

export type RateLimitOptions = Static<typeof RateLimitOptionsSchema>
/** `config.security.rateLimit`: `false` exempts the route; an object sets its own limit, cost or group. */
export type RateLimitRouteConfig = Static<typeof RateLimitRouteSchema>
