import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { Compile } from 'typebox/compile'
import { type AddressMatcher, compileAddresses, ipKey } from '../../lib/client-ip.js'
import { invalidOptions, invalidRouteConfig, RateLimitedError, RateLimitUnavailableError } from '../../lib/errors.js'
import { createLogLimiter } from '../../lib/log-limiter.js'
import { collectOptions, withoutRegisterKeys } from '../../lib/options.js'
import { addRouteHook, attachToRoute, explainRouteConfig, routeName, routeSecurityConfig } from '../../lib/route-config.js'
import { trustProxyOf } from '../../lib/trust-proxy.js'
import { type RateLimitOptions, RateLimitOptionsSchema, RateLimitRouteSchema } from '../../schemas/rate-limit.js'
import { type Bucket, makeBucket, rateLimitValue } from './buckets.js'
import type { GcraDecision } from './gcra.js'
import { MemoryStore } from './memory-store.js'
import { RedisStore } from './redis-store.js'
import type { RateLimitStore } from './store.js'
import { withTimeout } from '../../lib/with-timeout.js'
import type { Redis } from 'ioredis'

type Resolved = Required<Omit<RateLimitOptions, 'burst' | 'hook' | 'principal' | 'tiers' | 'tier' | 'allowList' | 'store' | 'now'>> &
  Pick<RateLimitOptions, 'burst' | 'hook' | 'principal' | 'tiers' | 'tier' | 'allowList' | 'now'> & {
    store?: { redis?: Redis | string; custom?: RateLimitStore; prefix: string; timeoutMs: number }
  }

interface RouteLimit {
  bucket: Bucket
  /** Tier name → bucket, for routes on the plugin-wide limit. */
  tiers: Map<string, Bucket> | undefined
  /** Set when the route checks in another hook than the plugin's (a route-level hook then does it). */
  ownHook?: boolean
}

type HookName = 'onRequest' | 'preParsing' | 'preValidation' | 'preHandler'

type Check = (request: FastifyRequest, reply: FastifyReply, done: () => void) => void

/** preParsing hooks pass the payload stream along; the others only call done. */
function hookFor (name: HookName, check: Check): Check | ((request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, p: unknown) => void) => void) {
  if (name !== 'preParsing') return check
  return (request, reply, payload, done) => check(request, reply, () => done(null, payload))
}

const RouteConfigCheck = Compile(RateLimitRouteSchema)
const LOG_INTERVAL_MS = 10_000
/** After a store failure, skip it for this long: no request waits on a store known to be down. */
const BREAKER_MS = 1000
/** How long registration waits for Redis to connect before starting without it. */
const STARTUP_WAIT_MS = 2000
const OPEN = Symbol('rampart.rateLimit.open')
const CLOSED = Symbol('rampart.rateLimit.closed')
type Outcome = GcraDecision | typeof OPEN | typeof CLOSED

const UNAVAILABLE = JSON.stringify({
  statusCode: 503,
  code: 'FST_RAMPART_RATE_LIMIT_UNAVAILABLE',
  error: 'Service Unavailable',
  message: new RateLimitUnavailableError().message,
})

function limitedBody (seconds: number): string {
  return JSON.stringify({
    statusCode: 429,
    code: 'FST_RAMPART_RATE_LIMITED',
    error: 'Too Many Requests',
    message: new RateLimitedError(seconds).message,
  })
}

async function rateLimitPlugin (fastify: FastifyInstance, options: RateLimitOptions): Promise<void> {
  const problems: string[] = []
  const resolved = collectOptions<Resolved>(RateLimitOptionsSchema, withoutRegisterKeys(options), 'rateLimit', problems)
  if (problems.length > 0) throw invalidOptions(problems)

  if (trustProxyOf(fastify) === true && !resolved.acknowledgeTrustAllProxies) {
    problems.push(
      "rateLimit: Fastify's trustProxy: true believes every X-Forwarded-For hop, so any client can pick its own IP and escape the limit; set trustProxy to your proxies (e.g. ['10.0.0.0/8'] or a hop count), or set acknowledgeTrustAllProxies if a proxy you control always overwrites the header"
    )
  }
  const defaultBucket = makeBucket(resolved.name, resolved, 1, 'rateLimit', problems)
  const tierBuckets = new Map<string, Bucket>()
  for (const [tier, limits] of Object.entries(resolved.tiers ?? {})) {
    tierBuckets.set(tier, makeBucket(`${resolved.name}.${tier}`, limits, 1, `rateLimit.tiers.${tier}`, problems))
  }
  let allowListed: AddressMatcher | ((request: FastifyRequest) => boolean) | undefined
  let allowListIsFunction = false
  if (Array.isArray(resolved.allowList)) {
    allowListed = compileAddresses(resolved.allowList, 'rateLimit.allowList', problems)
  } else if (resolved.allowList !== undefined) {
    allowListed = resolved.allowList
    allowListIsFunction = true
  }
  const store = resolved.store
  if (store !== undefined && (store.redis === undefined) === (store.custom === undefined)) {
    problems.push('rateLimit.store: set exactly one of redis (a client or a redis:// URL) or custom (a RateLimitStore)')
  } else if (store?.custom !== undefined && typeof store.custom.consume !== 'function') {
    problems.push('rateLimit.store.custom: must be an object with a consume(key, params, cost) method')
  }
  if (problems.length > 0) throw invalidOptions(problems)

  const defaultRoute: RouteLimit = { bucket: defaultBucket, tiers: tierBuckets.size > 0 ? tierBuckets : undefined }
  const principal = resolved.principal
  const tier = resolved.tier
  const ipv6Prefix = resolved.ipv6Prefix
  const draft = resolved.headers === 'both' || resolved.headers === 'draft'
  const legacy = resolved.headers === 'both' || resolved.headers === 'legacy'
  const logLimiter = createLogLimiter(LOG_INTERVAL_MS)
  // Late-bound, so fake timers installed after registration still drive it.
  const now = resolved.now ?? (() => Date.now())

  const memory = new MemoryStore({
    maxKeys: resolved.maxKeys,
    now,
    onFull: () =>
      fastify.log.error(
        { maxKeys: resolved.maxKeys },
        'fastify-rampart: the rate-limit memory store is full of limited clients; new clients are limited until some expire'
      ),
  })
  const redis = store?.redis === undefined ? undefined : new RedisStore({ redis: store.redis, prefix: store.prefix, timeoutMs: store.timeoutMs })
  const external: RateLimitStore | undefined = redis ?? store?.custom
  const timeoutMs = store?.timeoutMs ?? 0
  const onStoreError = resolved.onStoreError
  let downUntil = 0
  if (redis !== undefined) {
    fastify.addHook('onClose', async () => redis.close())
    if (!(await redis.ready(STARTUP_WAIT_MS))) {
      fastify.log.warn({ onStoreError }, 'fastify-rampart: the rate-limit Redis is not reachable yet; onStoreError applies until it is')
    }
  }

  function warn (request: FastifyRequest, fields: Record<string, unknown>, message: string): void {
    const suppressed = logLimiter.take()
    if (suppressed >= 0) request.log.warn({ ...fields, suppressed }, message)
  }

  function fallback (key: string, bucket: Bucket): Outcome {
    if (onStoreError === 'open') return OPEN
    if (onStoreError === 'closed') return CLOSED
    return memory.consume(key, bucket.params, bucket.cost)
  }

  function storeFailed (request: FastifyRequest, err: unknown, key: string, bucket: Bucket): Outcome {
    downUntil = Date.now() + BREAKER_MS
    warn(request, { err, onStoreError }, 'fastify-rampart: the rate-limit store failed')
    return fallback(key, bucket)
  }

  function consume (request: FastifyRequest, key: string, bucket: Bucket): Outcome | Promise<Outcome> {
    if (external === undefined) return memory.consume(key, bucket.params, bucket.cost)
    // Recently failed: go straight to the fallback; the first request after the pause tries the store again.
    if (Date.now() < downUntil) return fallback(key, bucket)
    let result: GcraDecision | Promise<GcraDecision>
    try {
      result = external.consume(key, bucket.params, bucket.cost)
    } catch (err) {
      return storeFailed(request, err, key, bucket)
    }
    if (!(result instanceof Promise)) return result
    // The Redis store bounds its own calls; a custom one is bounded here.
    return (external === redis ? result : withTimeout(result, timeoutMs)).catch((err: unknown) => storeFailed(request, err, key, bucket))
  }

  const pluginHook: HookName = resolved.hook ?? (principal === undefined ? 'onRequest' : 'preHandler')

  // Route limits are resolved when the route is added.
  const kRoute = Symbol('rampart.rateLimit.route')
  let anyRouteLimit = false
  const groups = new Map<string, string>()

  fastify.addHook('onRoute', function rampartRateLimitRoute (routeOptions: RouteOptions) {
    const own = routeSecurityConfig(routeOptions, 'rateLimit')
    if (own === undefined) return
    const path = 'config.security.rateLimit'
    const routeProblems: string[] = []
    let limit: RouteLimit | null = null
    if (!RouteConfigCheck.Check(own)) {
      explainRouteConfig(RateLimitRouteSchema, own, path, routeProblems)
    } else if (own !== false) {
      const ownLimits = own.limit !== undefined || own.window !== undefined || own.burst !== undefined
      if (!ownLimits && own.group === undefined) {
        // Only a cost: the plugin-wide bucket (and its tiers), charged more.
        const cost = own.cost ?? 1
        const retier = (b: Bucket) =>
          makeBucket(b.name, { limit: b.params.limit, window: b.params.windowMs, burst: b.params.burst }, cost, path, routeProblems)
        limit = {
          bucket: retier(defaultBucket),
          tiers: defaultRoute.tiers && new Map([...defaultRoute.tiers].map(([k, b]) => [k, retier(b)])),
        }
      } else {
        const name = own.group ?? routeName(routeOptions)
        const limits = { limit: own.limit ?? resolved.limit, window: own.window ?? resolved.window, burst: own.burst ?? (own.limit === undefined ? resolved.burst : undefined) }
        const bucket = makeBucket(name, limits, own.cost ?? 1, path, routeProblems)
        if (own.group !== undefined) {
          const shape = `${bucket.params.limit}/${bucket.params.windowMs}/${bucket.params.burst}`
          const seen = groups.get(own.group)
          if (seen !== undefined && seen !== shape) {
            routeProblems.push(`${path}.group: group "${own.group}" is already used with another limit, window or burst`)
          }
          groups.set(own.group, shape)
        }
        limit = { bucket, tiers: undefined }
      }
    }
    if (routeProblems.length > 0) throw invalidRouteConfig(routeName(routeOptions), routeProblems)
    const hook = own === false ? undefined : (own as { hook?: HookName }).hook
    if (limit !== null && hook !== undefined && hook !== pluginHook) {
      // This route checks in its own hook (after its own auth, say); the plugin-wide hook skips it.
      const routeLimit: RouteLimit = { ...limit, ownHook: true }
      addRouteHook(routeOptions, hook, hookFor(hook, (request, reply, done) => check(request, reply, done, routeLimit)))
      limit = routeLimit
    }
    attachToRoute(routeOptions, kRoute, limit)
    anyRouteLimit = true
  })

  function safeCall<T> (request: FastifyRequest, fn: (request: FastifyRequest) => T, what: string): T | undefined {
    try {
      return fn(request)
    } catch (err) {
      warn(request, { err }, `fastify-rampart: rateLimit.${what} threw; treated as not given`)
      return undefined
    }
  }

  function writeHeaders (reply: FastifyReply, bucket: Bucket, decision: GcraDecision): number {
    const ms = decision.allowed ? decision.resetMs : decision.retryAfterMs
    // Finite: every cost was checked against its burst when the route was added.
    const seconds = Math.max(1, Math.ceil(ms / 1000))
    if (draft) {
      reply.header('ratelimit-policy', bucket.policy)
      reply.header('ratelimit', rateLimitValue(bucket, decision.remaining, seconds))
    }
    if (legacy) {
      reply.header('x-ratelimit-limit', bucket.limitText)
      reply.header('x-ratelimit-remaining', String(decision.remaining))
      reply.header('x-ratelimit-reset', String(seconds))
    }
    return seconds
  }

  function finish (reply: FastifyReply, bucket: Bucket, ip: Outcome, principal: Outcome | undefined, done: () => void): void {
    if (ip === CLOSED || principal === CLOSED) {
      reply.code(503).header('retry-after', '1').type('application/json; charset=utf-8').send(UNAVAILABLE)
      return
    }
    // The tighter bucket speaks for both: a refusal, else the fewer remaining.
    let binding: GcraDecision | undefined = ip === OPEN ? undefined : ip
    if (principal !== undefined && principal !== OPEN) {
      if (binding === undefined || (binding.allowed && (!principal.allowed || principal.remaining < binding.remaining))) binding = principal
    }
    if (binding === undefined) return done()
    const seconds = writeHeaders(reply, bucket, binding)
    if (binding.allowed) return done()
    // Sent here, not thrown: an app's error handler cannot turn it into a 500.
    reply.code(429).header('retry-after', String(seconds)).type('application/json; charset=utf-8').send(limitedBody(seconds))
  }

  function rampartRateLimit (request: FastifyRequest, reply: FastifyReply, done: () => void): void {
    let route: RouteLimit | null = defaultRoute
    if (anyRouteLimit) {
      const own = (request.routeOptions.config as unknown as Record<symbol, RouteLimit | null | undefined>)[kRoute]
      if (own !== undefined) route = own
    }
    if (route === null || route.ownHook === true) return done()
    check(request, reply, done, route)
  }

  function check (request: FastifyRequest, reply: FastifyReply, done: () => void, route: RouteLimit): void {
    if (allowListed !== undefined) {
      const listed = allowListIsFunction
        ? safeCall(request, allowListed as (request: FastifyRequest) => boolean, 'allowList')
        : (allowListed as AddressMatcher)(request.ip)
      if (listed === true) return done()
    }
    let bucket = route.bucket
    if (route.tiers !== undefined && tier !== undefined) {
      const name = safeCall(request, tier, 'tier')
      const tiered = name === undefined ? undefined : route.tiers.get(name)
      if (tiered !== undefined) bucket = tiered
    }
    const id = principal === undefined ? undefined : safeCall(request, principal, 'principal')
    const first = consume(request, `${bucket.ipPrefix}${ipKey(request.ip, ipv6Prefix)}`, bucket)
    // No closure on the synchronous (memory) path: this runs on every request.
    if (first instanceof Promise) {
      first.then((outcome) => afterIp(request, reply, done, bucket, id, outcome), done)
      return
    }
    afterIp(request, reply, done, bucket, id, first)
  }

  function afterIp (request: FastifyRequest, reply: FastifyReply, done: () => void, bucket: Bucket, id: unknown, ip: Outcome): void {
    // A refused IP bucket is enough; an unauthenticated request has no principal bucket.
    if (typeof id !== 'string' || id === '' || (ip !== OPEN && ip !== CLOSED && !ip.allowed)) return finish(reply, bucket, ip, undefined, done)
    const next = consume(request, `${bucket.principalPrefix}${id}`, bucket)
    if (next instanceof Promise) {
      next.then((outcome) => finish(reply, bucket, ip, outcome, done), done)
      return
    }
    finish(reply, bucket, ip, next, done)
  }

  fastify.addHook(pluginHook as 'onRequest', hookFor(pluginHook, rampartRateLimit) as never)
}

export default fp(rateLimitPlugin, { fastify: '5.x', name: 'fastify-rampart-rate-limit' })
