import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { ipKey } from '../../lib/client-ip.js'
import { invalidOptions, invalidRouteConfig } from '../../lib/errors.js'
import { createLogLimiter } from '../../lib/log-limiter.js'
import { withoutRegisterKeys } from '../../lib/options.js'
import { addRouteHook, attachToRoute, declareSecurityKey, routeName, routeSecurityConfig } from '../../lib/route-config.js'
import { addStep, fusedPlugin, type Step } from '../../lib/steps.js'
import { trustProxyOf } from '../../lib/trust-proxy.js'
import type { RateLimitOptions } from '../../schemas/rate-limit.js'
import { type Answerer, safely, secondsOf, sendLimited, sendUnavailable, writeHeaders } from './answer.js'
import { type Bucket, ipStoreKey } from './buckets.js'
import { binding, CLOSED, OPEN, type Outcome, pickBucket } from './decide.js'
import { Limiter } from './limiter.js'
import { RedisStore } from './redis-store.js'
import { type HookName, resolveRateLimit, type RouteLimit, type Settings } from './resolve.js'
import { routeConfigOf } from '../../lib/route-context.js'

/** How long registration waits for Redis to connect before starting without it. */
const STARTUP_WAIT_MS = 2000
const LOG_INTERVAL_MS = 10_000

type Done = () => void
type Check = (request: FastifyRequest, reply: FastifyReply, done: Done) => void
type PreflightCheck = (request: FastifyRequest, reply: FastifyReply) => boolean | Promise<boolean>

/** preParsing hooks pass the payload stream along; the others only call done. */
function hookFor (name: HookName, check: Check): Check | ((request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, p: unknown) => void) => void) {
  if (name !== 'preParsing') return check
  return (request, reply, payload, done) => check(request, reply, () => done(null, payload))
}

/** A CORS preflight: the browser asking, before the real request, whether it may send it. */
function isPreflight (request: FastifyRequest): boolean {
  const headers = request.headers
  return request.raw.method === 'OPTIONS' && headers.origin !== undefined && headers['access-control-request-method'] !== undefined
}

/** What `fastify.rateLimit.consume` / `.reward` answer. */
export interface RateLimitResult {
  allowed: boolean
  /** Requests of cost 1 still allowed now. */
  remaining: number
  /** Seconds until a refused request would pass (0 when allowed). */
  retryAfter: number
  /** Seconds until the bucket is full again. */
  reset: number
  bucket: string
  limit: number
  /** Set when the store failed and `onStoreError` decided. */
  unavailable?: true
}

export interface RateLimitCheckOptions {
  /** A name from `buckets`, a route `group`, or the plugin-wide bucket's name (the default). */
  bucket?: string
  /** Units to take (consume) or give back (reward); default 1. */
  cost?: number
  /** The client key; default: the IP key (or `keyGenerator`'s). */
  key?: string
}

/** `fastify.rateLimit`: checks by hand, e.g. count only failed logins. */
export interface RateLimitApi {
  consume(request: FastifyRequest, options?: RateLimitCheckOptions): Promise<RateLimitResult>
  reward(request: FastifyRequest, options?: RateLimitCheckOptions): Promise<RateLimitResult>
}

// securityPlugin counts preflights before CORS answers them (in onRequest,
// before the limiter's own hook); it finds this instance's check here.
const preflightChecks = new WeakMap<FastifyInstance, PreflightCheck>()

/**
 * An onRequest step that charges CORS preflights to the IP bucket of the
 * rate limiter registered on `fastify` (later): securityPlugin adds it ahead
 * of the CORS plugin, which answers preflights in its own step.
 */
export function preflightLimitStep (fastify: FastifyInstance): Step {
  let check: PreflightCheck | undefined
  return function rampartPreflightLimit (request, reply) {
    if (!isPreflight(request)) return true
    check ??= preflightChecks.get(fastify)
    return check === undefined || check(request, reply)
  }
}

async function rateLimitPlugin (fastify: FastifyInstance, options: RateLimitOptions): Promise<void> {
  const problems: string[] = []
  const resolved = resolveRateLimit(withoutRegisterKeys(options), trustProxyOf(fastify) === true, problems)
  if (problems.length > 0 || resolved === undefined) throw invalidOptions(problems)
  const settings: Settings = resolved
  declareSecurityKey(fastify, 'rateLimit')

  const { principal, tier } = settings
  // Late-bound, so fake timers installed after registration still drive it.
  const now = settings.now ?? (() => Date.now())
  const store = settings.store
  const redis = store?.redis === undefined
    ? undefined
    : new RedisStore({ redis: store.redis, prefix: store.prefix, timeoutMs: store.timeoutMs, log: fastify.log })
  const limiter = new Limiter({
    maxKeys: settings.maxKeys,
    now,
    log: fastify.log,
    redis,
    custom: store?.custom,
    timeoutMs: store?.timeoutMs ?? 0,
    onStoreError: settings.onStoreError,
  })
  if (redis !== undefined) {
    fastify.addHook('onClose', async () => redis.close())
    if (!(await redis.ready(STARTUP_WAIT_MS))) {
      fastify.log.warn({ onStoreError: settings.onStoreError }, 'fastify-rampart: the rate-limit Redis is not reachable yet; onStoreError applies until it is')
    }
  }
  const answer: Answerer = {
    draft: settings.draft,
    legacy: settings.legacy,
    errorResponse: settings.errorResponse,
    errorContentType: settings.errorContentType,
    onExceeded: settings.onExceeded,
    refusals: createLogLimiter(LOG_INTERVAL_MS),
    callbacks: createLogLimiter(LOG_INTERVAL_MS),
  }

  // ---- route limits, resolved when the route is added ----
  const kRoute = Symbol('rampart.rateLimit.route')
  /** Set on a request that must not be checked again later (allow-listed, a counted preflight, or already refused). */
  const kSettled = Symbol('rampart.rateLimit.settled')
  /** The IP bucket's outcome, checked in onRequest, for the principal check later. */
  const kIp = Symbol('rampart.rateLimit.ip')
  type Marked = FastifyRequest & { [kSettled]?: true; [kIp]?: Outcome }
  let anyRouteLimit = false
  const groups = new Map<string, string>()

  fastify.addHook('onRoute', function rampartRateLimitRoute (routeOptions: RouteOptions) {
    const own = routeSecurityConfig(routeOptions, 'rateLimit')
    if (own === undefined) return
    const routeProblems: string[] = []
    const limit = settings.resolveRoute(own, routeName(routeOptions), groups, routeProblems)
    if (routeProblems.length > 0 || limit === undefined) throw invalidRouteConfig(routeName(routeOptions), routeProblems)
    if (limit !== null) {
      const group = (own as { group?: string }).group
      if (group !== undefined && !settings.named.has(group)) settings.named.set(group, limit.bucket)
      // This route checks later in its own hook (after its own auth, say); the plugin-wide later hook skips it.
      if (limit.hook !== 'onRequest' && limit.hook !== settings.hook) {
        addRouteHook(routeOptions, limit.hook, hookFor(limit.hook, (request, reply, done) => later(request, reply, done, limit)))
      }
    }
    attachToRoute(routeOptions, kRoute, limit)
    anyRouteLimit = true
  })

  function routeOf (request: FastifyRequest): RouteLimit | null {
    if (!anyRouteLimit) return settings.defaultRoute
    const own = (routeConfigOf(request) as unknown as Record<symbol, RouteLimit | null | undefined>)[kRoute]
    return own === undefined ? settings.defaultRoute : own
  }

  function clientKey (request: FastifyRequest): string {
    if (settings.keyGenerator !== undefined) {
      const key = safely(answer, request, 'keyGenerator', settings.keyGenerator, request)
      if (typeof key === 'string' && key !== '') return key
    }
    return ipKey(request.ip, settings.ipv6Prefix)
  }

  function allowListed (request: FastifyRequest): boolean {
    if (settings.allowList !== undefined) return settings.allowList(request.ip)
    if (settings.allowListFn !== undefined) return safely(answer, request, 'allowList', settings.allowListFn, request) === true
    return false
  }

  function tierOf (request: FastifyRequest): string | undefined {
    return tier === undefined ? undefined : safely(answer, request, 'tier', tier, request)
  }

  /**
   * Applies one bucket's outcome: a 503 or 429 ends the request (returns
   * false); otherwise the headers are written when this bucket speaks.
   */
  function apply (request: FastifyRequest, reply: FastifyReply, bucket: Bucket, outcome: Outcome, speaks: boolean, by: 'ip' | 'principal', key: string): boolean {
    if (outcome === CLOSED) {
      sendUnavailable(answer, request, reply)
      return false
    }
    if (outcome === OPEN) return true
    if (speaks) writeHeaders(answer, reply, bucket, outcome)
    if (!outcome.allowed) {
      sendLimited(answer, request, reply, bucket, secondsOf(bucket, outcome), by, key)
      return false
    }
    if (settings.onExceeding !== undefined) safely(answer, request, 'onExceeding', settings.onExceeding, request, key)
    return true
  }

  /** The IP bucket: true to go on, false once it answered (429/503), or a promise of either (Redis, a custom store). */
  function checkIp (request: FastifyRequest, reply: FastifyReply, bucket: Bucket, cost: number): boolean | Promise<boolean> {
    const key = clientKey(request)
    const outcome = limiter.consume(request, ipStoreKey(bucket, key), bucket, cost)
    // No closure on the synchronous (memory) path: this runs on every request.
    if (outcome instanceof Promise) return outcome.then((o) => afterIp(request, reply, bucket, key, o))
    return afterIp(request, reply, bucket, key, outcome)
  }

  function afterIp (request: FastifyRequest, reply: FastifyReply, bucket: Bucket, key: string, outcome: Outcome): boolean {
    ;(request as Marked)[kIp] = outcome
    if (apply(request, reply, bucket, outcome, true, 'ip', key)) return true
    ;(request as Marked)[kSettled] = true
    return false
  }

  /** The principal bucket, after authentication; an unauthenticated request has none (invalid tokens mint nothing). */
  function checkPrincipal (request: FastifyRequest, reply: FastifyReply, route: RouteLimit): boolean | Promise<boolean> {
    const id = safely(answer, request, 'principal', principal as (request: FastifyRequest) => string | undefined, request)
    if (typeof id !== 'string' || id === '') return true
    const bucket = pickBucket(route, tierOf(request))
    const outcome = limiter.consume(request, `${bucket.principalPrefix}${id}`, bucket, bucket.cost)
    if (outcome instanceof Promise) return outcome.then((o) => afterPrincipal(request, reply, bucket, id, o))
    return afterPrincipal(request, reply, bucket, id, outcome)
  }

  function afterPrincipal (request: FastifyRequest, reply: FastifyReply, bucket: Bucket, id: string, outcome: Outcome): boolean {
    // Set by the IP check, which always runs first.
    const ip = (request as Marked)[kIp] as Outcome
    return apply(request, reply, bucket, outcome, binding(ip, outcome) === 'principal', 'principal', id)
  }

  /** Everything after onRequest: the principal bucket, or (without principal) the whole check. */
  function later (request: FastifyRequest, reply: FastifyReply, done: Done, route: RouteLimit): void {
    if ((request as Marked)[kSettled] === true) return done()
    const result = principal === undefined
      ? checkIp(request, reply, pickBucket(route, tierOf(request)), route.bucket.cost)
      : checkPrincipal(request, reply, route)
    if (result === true) done()
    else if (result !== false) result.then((go) => { if (go) done() }, done)
  }

  function preflight (request: FastifyRequest, reply: FastifyReply): boolean | Promise<boolean> {
    const route = routeOf(request)
    ;(request as Marked)[kSettled] = true
    if (route === null || settings.preflightCost === 0 || allowListed(request)) return true
    return checkIp(request, reply, route.bucket, settings.preflightCost)
  }
  preflightChecks.set(fastify, preflight)

  // The IP bucket always runs in onRequest, before any auth hook can answer
  // (a 401 in onRequest must not skip the limit: brute-forcing tokens is
  // limited by IP); the principal bucket runs after authentication, in `hook`.
  addStep(fastify, 'rampartRateLimit', function rampartRateLimit (request: FastifyRequest, reply: FastifyReply): boolean | Promise<boolean> {
    if ((request as Marked)[kSettled] === true) return true
    if (isPreflight(request)) return preflight(request, reply)
    const route = routeOf(request)
    if (route === null) return true
    if (allowListed(request)) {
      ;(request as Marked)[kSettled] = true
      return true
    }
    if (principal === undefined) {
      if (route.hook !== 'onRequest') return true
      return checkIp(request, reply, pickBucket(route, tierOf(request)), route.bucket.cost)
    }
    const bucket = pickBucket(route, tierOf(request))
    const ip = checkIp(request, reply, bucket, bucket.cost)
    if (route.hook !== 'onRequest' || ip === false) return ip
    if (ip === true) return checkPrincipal(request, reply, route)
    return ip.then((go) => go && checkPrincipal(request, reply, route))
  })

  if (settings.hook !== 'onRequest') {
    fastify.addHook(settings.hook as 'preHandler', hookFor(settings.hook, function rampartRateLimitLater (request, reply, done) {
      const route = routeOf(request)
      // Routes with a hook of their own are checked there.
      if (route === null || route.hook !== settings.hook) return done()
      later(request, reply, done, route)
    }) as never)
  }

  async function check (request: FastifyRequest, opts: RateLimitCheckOptions | undefined, sign: 1 | -1): Promise<RateLimitResult> {
    const name = opts?.bucket ?? settings.baseRoute.bucket.name
    const bucket = settings.named.get(name)
    if (bucket === undefined) {
      throw new TypeError(`fastify-rampart: no rate-limit bucket named "${name}" (known: ${[...settings.named.keys()].join(', ')})`)
    }
    const key = opts?.key ?? clientKey(request)
    const outcome = await limiter.consume(request, `${bucket.ipPrefix}${key}`, bucket, sign * (opts?.cost ?? 1))
    const limit = bucket.params.limit
    if (outcome === OPEN) return { allowed: true, remaining: limit, retryAfter: 0, reset: 0, bucket: name, limit, unavailable: true }
    if (outcome === CLOSED) return { allowed: false, remaining: 0, retryAfter: 1, reset: 1, bucket: name, limit, unavailable: true }
    const seconds = secondsOf(bucket, outcome)
    return {
      allowed: outcome.allowed,
      remaining: outcome.remaining,
      retryAfter: outcome.allowed ? 0 : seconds,
      reset: outcome.allowed ? Math.ceil(outcome.resetMs / 1000) : seconds,
      bucket: name,
      limit,
    }
  }

  if (!fastify.hasDecorator('rateLimit')) {
    const api: RateLimitApi = {
      consume: (request, opts) => check(request, opts, 1),
      reward: (request, opts) => check(request, opts, -1),
    }
    fastify.decorate('rateLimit', api)
  }
}

export default fp(fusedPlugin('rampartRateLimit', rateLimitPlugin), { fastify: '5.x', name: 'fastify-rampart-rate-limit' })

declare module 'fastify' {
  interface FastifyInstance {
    /** Checks by hand (fastify-rampart): `consume(request, { bucket, cost })`, `reward(...)`. */
    rateLimit: RateLimitApi
  }
}
