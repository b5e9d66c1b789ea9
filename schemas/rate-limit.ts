import type { FastifyRequest } from 'fastify'
import Type, { type Static, type TUnsafe } from 'typebox'
import type { Redis } from 'ioredis'
import type { RateLimitStore } from '../plugins/rate-limit/store.js'

// Caps (issue 10): every number the headers carry must stay an RFC 9651
// sf-integer (at most 15 digits). q=limit, w=window and, at worst,
// t = window × burst / limit (1 year × 1e6 ≈ 3.2e13 s) all fit.
/** Most requests per window. */
export const MAX_LIMIT = 1_000_000_000
/** Most requests at once, and most units one request costs. */
export const MAX_BURST = 1_000_000
/** Longest window: 365 days. */
export const MAX_WINDOW_MS = 365 * 86_400_000
/** Most keys the memory store holds (about 100 bytes each). */
export const MAX_KEYS = 10_000_000

/** Regex source for the integers 1..max, without leading zeros: lets a pattern cap a duration string. */
function integersUpTo (max: number): string {
  const digits = String(max)
  const parts: string[] = []
  // Every shorter length, then the numbers of max's own length that are not above it.
  for (let length = 1; length < digits.length; length++) parts.push(`[1-9][0-9]{${length - 1}}`)
  for (let i = 0; i < digits.length; i++) {
    const low = i === 0 ? 1 : 0
    const digit = Number(digits[i])
    if (digit > low) parts.push(`${digits.slice(0, i)}[${low}-${digit - 1}][0-9]{${digits.length - i - 1}}`)
  }
  parts.push(digits)
  return `(?:${parts.join('|')})`
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const CAPPED_DURATION = `^(?:${Object.entries(UNIT_MS).map(([unit, ms]) => `${integersUpTo(MAX_WINDOW_MS / ms)}${unit}`).join('|')})$`
const DURATION_MESSAGE = "must be a positive number of milliseconds or a duration like '30s', '15m', '1h', '1d', at most 365 days"

/** Milliseconds, or a string such as `'30s'`, `'1m'`, `'15m'`, `'1h'`, `'1d'`; at most 365 days. */
const Duration = Type.Union(
  [
    Type.Integer({ minimum: 1, maximum: MAX_WINDOW_MS }),
    Type.String({ pattern: CAPPED_DURATION }),
  ],
  { errorMessage: DURATION_MESSAGE }
)
const Name = Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', errorMessage: 'must be 1-64 letters, digits, ".", "_" or "-"' })
const RequestFn = <T>(returns: string) =>
  Type.Unsafe<(request: FastifyRequest) => T>({ type: 'function', errorMessage: `must be a function (request) => ${returns}` })

const Limits = {
  /** Requests per window (the sustained rate). */
  limit: Type.Integer({ minimum: 1, maximum: MAX_LIMIT }),
  window: Duration,
  /** Requests that may come at once; default: `limit`. */
  burst: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_BURST })),
  /** A sliding log instead of GCRA: at most `limit` in any `window` (limit ≤ 1000). */
  strict: Type.Optional(Type.Boolean()),
}

const HookName = Type.Union([Type.Literal('onRequest'), Type.Literal('preParsing'), Type.Literal('preValidation'), Type.Literal('preHandler')])
const Fn = <T>(signature: string) => Type.Unsafe<T>({ type: 'function', errorMessage: `must be a function ${signature}` })

/** What `errorResponse` is told about the refusal it shapes. */
export interface RateLimitErrorContext {
  statusCode: 429 | 503
  code: 'FST_RAMPART_RATE_LIMITED' | 'FST_RAMPART_RATE_LIMIT_UNAVAILABLE'
  /** The body rampart would send. */
  defaultBody: { statusCode: number; code: string; error: string; message: string }
  /** Seconds until a retry may pass (the Retry-After value). */
  retryAfter: number
  /** The refusing bucket's name and limit; absent on a 503. */
  bucket?: string
  limit?: number
}

const RedisClient: TUnsafe<Redis | string> = Type.Unsafe<Redis | string>({
  anyOf: [{ type: 'string', pattern: '^rediss?://' }, { type: 'object' }],
  errorMessage: 'must be an ioredis client or a redis:// URL',
})

export const RateLimitOptionsSchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: 100 })),
    window: Type.Optional(Type.Union(Duration.anyOf, { default: '1m', errorMessage: DURATION_MESSAGE })),
    burst: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_BURST })),
    /** The plugin-wide bucket as a sliding log: at most `limit` in any `window`. */
    strict: Type.Optional(Type.Boolean({ default: false })),
    /** `false`: only routes with `config.security.rateLimit` are limited. */
    global: Type.Optional(Type.Boolean({ default: true })),
    /** Named buckets for `fastify.rateLimit.consume(request, { bucket })` (say, failed logins only). */
    buckets: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }), Type.Object(Limits, { additionalProperties: false }))),
    /** Replaces the IP as the client key (a tenant id, say). Never read client-supplied headers such as X-Forwarded-For here. */
    keyGenerator: Type.Optional(RequestFn<string>('string')),
    /** Called for each counted request that passed: (request, key). */
    onExceeding: Type.Optional(Fn<(request: FastifyRequest, key: string) => void>('(request, key) => void')),
    /** Called for each refused request: (request, key). */
    onExceeded: Type.Optional(Fn<(request: FastifyRequest, key: string) => void>('(request, key) => void')),
    /** Shapes the 429 / 503 body; status and headers stay rampart's. */
    errorResponse: Type.Optional(Fn<(request: FastifyRequest, context: RateLimitErrorContext) => unknown>('(request, context) => body')),
    /** Content-Type of bodies errorResponse returns, e.g. 'application/problem+json'. */
    errorContentType: Type.Optional(Type.String({ minLength: 1, default: 'application/json; charset=utf-8' })),
    /** Units a CORS preflight costs on the IP bucket; 0 exempts preflights. */
    preflightCost: Type.Optional(Type.Integer({ minimum: 0, default: 1 })),
    /** Why your principal is known in onRequest (an auth hook registered before the limiter); required to combine principal with hook: 'onRequest'. */
    principalHookReason: Type.Optional(Type.String({ minLength: 1 })),
    /** Name in RateLimit / RateLimit-Policy for the plugin-wide bucket. */
    name: Type.Optional(Type.String({ ...Name, default: 'default' })),
    /** Where the check runs; default `onRequest`, or `preHandler` when `principal` is set (after authentication). */
    hook: Type.Optional(HookName),
    /**
     * Token / user / API key id of an authenticated request, or undefined: each principal gets its own bucket too.
     * `'jwt'`: the verified bearer token's issuer and subject (jwtPlugin's request.auth).
     */
    principal: Type.Optional(Type.Union([Type.Literal('jwt'), RequestFn<string | undefined>('string | undefined')])),
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
    maxKeys: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_KEYS, default: 100_000 })),
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
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT })),
      window: Type.Optional(Duration),
      burst: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_BURST })),
      /** Units this route's requests use. */
      cost: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_BURST })),
      /** Routes with the same group share one bucket. */
      group: Type.Optional(Name),
      /** A sliding log for this route's own bucket: at most `limit` in any `window`. */
      strict: Type.Optional(Type.Boolean()),
      /** Check the principal bucket (or, without principal, the whole check) in this hook (e.g. preHandler, after the route's own auth). */
      hook: Type.Optional(HookName),
      /** Why this route's principal is known in onRequest; required for hook: 'onRequest' with a principal. */
      hookReason: Type.Optional(Type.String({ minLength: 1 })),
    },
    { additionalProperties: false }
  ),
])

export type RateLimitOptions = Static<typeof RateLimitOptionsSchema>
/** `config.security.rateLimit`: `false` exempts the route; an object sets its own limit, cost or group. */
export type RateLimitRouteConfig = Static<typeof RateLimitRouteSchema>
