import fastifyCors from '@fastify/cors'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { headersOf } from '../../lib/reply-headers.js'
import FindMyWay, { type HTTPVersion, type Instance } from 'find-my-way'
import { Compile } from 'typebox/compile'
import { isPlainObject, mergeOver } from '../../lib/copy.js'
import { CorsPreflightRefusedError, invalidOptions, invalidRouteConfig } from '../../lib/errors.js'
import { createLogLimiter } from '../../lib/log-limiter.js'
import { collectOptions, withoutRegisterKeys } from '../../lib/options.js'
import { addStep } from '../../lib/steps.js'
import { attachToRoute, explainRouteConfig, routeName, routeSecurityConfig } from '../../lib/route-config.js'
import { type CorsOptions, CorsOptionsSchema, CorsRouteSchema } from '../../schemas/cors.js'
import { OriginLookup } from './origin-lookup.js'
import { type CorsPolicy, originAllowed, preflightAllowed, type ResolvedCors, resolvePolicy } from './policy.js'
import { addOriginToVary } from './vary.js'
import { routeConfigOf } from '../../lib/route-context.js'

const RouteConfigCheck = Compile(CorsRouteSchema)
// Chromium caps Access-Control-Max-Age at 7200 s (Firefox at 86400).
const CHROMIUM_MAX_AGE = 7200
const LOG_INTERVAL_MS = 10_000
// The names securityPlugin adds to exposedHeaders for the rate limit; a
// route's own exposedHeaders keeps them, or scripts could not read a 429.
const RATE_LIMIT_HEADERS = new Set(['ratelimit', 'ratelimit-policy', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after'])

// Written directly, as a refused host is: no error handler can turn it into
// a 500, and the log gets one line per 10 s instead of a stack per request.
const REFUSAL = JSON.stringify({
  statusCode: 403,
  code: 'FST_RAMPART_CORS_PREFLIGHT_REFUSED',
  error: 'Forbidden',
  message: new CorsPreflightRefusedError().message,
})

type Resolved = Required<CorsOptions>
type Reason = 'no route' | 'cors off for the route' | 'not allowed'

/** One route's CORS: its policy (`null`: off) and what its allowed preflights add. */
interface RouteCors {
  policy: CorsPolicy | null
  cacheControl: string | undefined
}

interface PreflightTarget {
  cors: RouteCors
}

function pathOf (url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

function resolveOptions (input: unknown, path: string, problems: string[]): Resolved | undefined {
  const before = problems.length
  const options = collectOptions<Resolved>(CorsOptionsSchema, input, path, problems)
  return problems.length > before ? undefined : options
}

/** Options in, policy out, every problem pushed: securityPlugin checks every plugin at once with this. */
export function resolve (input: unknown, path: string, problems: string[]): CorsPolicy | undefined {
  const options = resolveOptions(input, path, problems)
  if (options === undefined) return undefined
  // Only the problems matter here (the policy is never asked about an origin), so the matcher
  // passes as is; the plugin wraps a possibly async one when it registers.
  return resolvePolicy(options as ResolvedCors, path, problems)
}

/** A route's exposedHeaders replaces the plugin's list, except for the rate-limit names (see RATE_LIMIT_HEADERS). */
function withRateLimitHeaders (own: string[], plugin: string[]): string[] {
  const listed = new Set(own.map((h) => h.toLowerCase()))
  return [...own, ...plugin.filter((h) => RATE_LIMIT_HEADERS.has(h.toLowerCase()) && !listed.has(h.toLowerCase()))]
}

async function corsPlugin (fastify: FastifyInstance, options: CorsOptions): Promise<void> {
  const input = withoutRegisterKeys(options)
  const problems: string[] = []
  const base = resolveOptions(input, 'cors', problems)
  if (base === undefined) throw invalidOptions(problems)
  if (base.maxAge > CHROMIUM_MAX_AGE) {
    fastify.log.warn({ maxAge: base.maxAge }, 'fastify-rampart: cors.maxAge is above 7200 s; Chromium caps preflight caching there')
  }
  const logLimiter = createLogLimiter(LOG_INTERVAL_MS)
  const matcherLimiter = createLogLimiter(LOG_INTERVAL_MS)
  const lookup = base.originMatcher === undefined
    ? undefined
    : new OriginLookup(base.originMatcher, {
      timeoutMs: base.originMatcherTimeout,
      maxKeys: base.originMatcherCache.maxKeys as number,
      ttlMs: base.originMatcherCache.ttl as number,
      negativeTtlMs: base.originMatcherCache.negativeTtl as number,
      onFailure (reason) {
        const suppressed = matcherLimiter.take()
        // The reason only: the matcher's error may carry tenant data, and a stack per request floods.
        if (suppressed >= 0) fastify.log.warn({ reason, suppressed }, 'fastify-rampart: cors.originMatcher failed; the origin was refused')
      },
    })

  function routeCors (options: Resolved, path: string, problems: string[]): RouteCors {
    // Every policy shares one lookup (and cache): route config cannot change the matcher.
    const resolved: ResolvedCors = { ...options, originMatcher: lookup?.check }
    return {
      policy: resolvePolicy(resolved, path, problems),
      cacheControl: options.cacheControl === false ? undefined : options.cacheControl,
    }
  }
  const defaultCors = routeCors(base, 'cors', problems)
  if (problems.length > 0) throw invalidOptions(problems)
  const defaultPolicy = defaultCors.policy as CorsPolicy
  const kPolicy = Symbol('rampart.cors.route')
  let anyRoutePolicy = false

  // The catch-all OPTIONS route answers every preflight blind to the route
  // the browser is asking about. This router, with Fastify's own matching
  // rules, finds that route (or that there is none).
  const config = fastify.initialConfig
  const preflightRouter: Instance<HTTPVersion.V1> = FindMyWay({
    ignoreTrailingSlash: config.ignoreTrailingSlash,
    ignoreDuplicateSlashes: config.ignoreDuplicateSlashes,
    caseSensitive: config.caseSensitive,
    maxParamLength: config.maxParamLength,
  })
  const REFUSED: RouteCors = { policy: null, cacheControl: undefined }

  const exposeHeadRoutes = (config as { exposeHeadRoutes?: boolean }).exposeHeadRoutes !== false

  /** `auto`: the HEAD route Fastify adds beside a GET route (without calling onRoute for it). */
  function addPreflightTarget (method: string, url: string, cors: RouteCors, auto: boolean): void {
    try {
      preflightRouter.on(method as 'GET', url, neverCalled, { cors })
    } catch {
      // find-my-way refuses the same path twice: a HEAD route declared
      // before the GET (Fastify then adds none), or routes that differ only
      // by constraints, where one answer must serve both: unless their CORS
      // is the same, refuse.
      if (auto) return
      const store = (preflightRouter.findRoute(method as 'GET', url) as { store: PreflightTarget }).store
      if (store.cors !== cors) store.cors = REFUSED
    }
  }

  fastify.addHook('onRoute', function rampartCorsRoute (routeOptions: RouteOptions) {
    const methods = Array.isArray(routeOptions.method) ? routeOptions.method : [routeOptions.method]
    const own = routeSecurityConfig(routeOptions, 'cors')
    let cors = defaultCors
    if (own !== undefined) {
      const path = 'config.security.cors'
      const routeProblems: string[] = []
      cors = REFUSED
      if (!RouteConfigCheck.Check(own)) {
        explainRouteConfig(CorsRouteSchema, own, path, routeProblems)
      } else if (own !== false) {
        // The route passed its schema, so only semantic problems can follow (and then we throw below).
        const merged = resolveOptions(mergeOver(input, own), path, routeProblems) as Resolved
        if (isPlainObject(own) && own.exposedHeaders !== undefined) {
          merged.exposedHeaders = withRateLimitHeaders(own.exposedHeaders, base.exposedHeaders)
        }
        cors = routeCors(merged, path, routeProblems)
      }
      if (routeProblems.length > 0) throw invalidRouteConfig(routeName(routeOptions), routeProblems)
    }
    // @fastify/cors's own per-route switch, `config.cors: false`, kept
    // meaning what it did when @fastify/cors wrote these headers: no CORS
    // headers on the route's responses (its preflight is judged as before).
    const actual = (routeOptions.config as { cors?: unknown } | undefined)?.cors === false ? REFUSED : cors
    if (actual !== defaultCors) {
      attachToRoute(routeOptions, kPolicy, actual)
      anyRoutePolicy = true
    }
    for (const method of methods) {
      if (method !== 'OPTIONS') addPreflightTarget(method, routeOptions.url, cors, false)
    }
    if (methods.includes('GET') && !methods.includes('HEAD') && (routeOptions.exposeHeadRoute ?? exposeHeadRoutes)) {
      addPreflightTarget('HEAD', routeOptions.url, cors, true)
    }
  })

  function refuse (request: FastifyRequest, reply: FastifyReply, reason: Reason): false {
    const suppressed = logLimiter.take()
    if (suppressed >= 0) {
      // Our own reason words only: no Origin or URL text from the request reaches the log.
      request.log.warn({ code: 'FST_RAMPART_CORS_PREFLIGHT_REFUSED', reason, suppressed }, 'fastify-rampart: refused a CORS preflight')
    }
    // The answer still depends on Origin: caches must not reuse it for another.
    addOriginToVary(reply)
    reply.code(403).type('application/json; charset=utf-8').send(REFUSAL)
    return false
  }

  /**
   * An allowed preflight gets what @fastify/cors wrote for it (in its order),
   * plus Private Network Access and the route's Cache-Control, which it knows
   * nothing of. The headers plugin writes only what is not set yet, so this
   * Cache-Control replaces its no-store.
   */
  function answerPreflight (request: FastifyRequest, reply: FastifyReply, cors: RouteCors, origin: string, privateNetwork: boolean, allowed: boolean): false {
    if (!allowed) return refuse(request, reply, 'not allowed')
    const policy = cors.policy as CorsPolicy
    addOriginToVary(reply)
    reply.header('access-control-allow-origin', policy.allowOrigin ?? origin)
    if (policy.credentials) reply.header('access-control-allow-credentials', 'true')
    if (policy.exposedHeaders !== undefined) reply.header('access-control-expose-headers', policy.exposedHeaders)
    reply.header('access-control-allow-methods', policy.allowMethods)
    reply.header('access-control-allow-headers', policy.allowHeaders)
    reply.header('access-control-max-age', policy.maxAge)
    if (privateNetwork) reply.header('access-control-allow-private-network', 'true')
    if (cors.cacheControl !== undefined) reply.header('cache-control', cors.cacheControl)
    // Safari waits for a body after a 204 without Content-Length: 0 (as @fastify/cors notes).
    reply.code(204).header('content-length', '0').send()
    return false
  }

  function preflight (request: FastifyRequest, reply: FastifyReply, origin: string, method: string): false | Promise<boolean> {
    const found = preflightRouter.find(method.toUpperCase() as 'GET', pathOf(request.raw.url as string))
    // A preflight for a path no route serves is refused: a 204 would promise a request that can only 404.
    if (found === null) return refuse(request, reply, 'no route')
    const cors = (found.store as PreflightTarget).cors
    const policy = cors.policy
    if (policy === null) return refuse(request, reply, 'cors off for the route')
    const headers = request.headers
    const privateNetwork = headers['access-control-request-private-network'] === 'true'
    const requested = headers['access-control-request-headers'] as string | undefined
    if (lookup === undefined) {
      return answerPreflight(request, reply, cors, origin, privateNetwork, preflightAllowed(policy, origin, method, requested, privateNetwork))
    }
    lookup.begin()
    const allowed = preflightAllowed(policy, origin, method, requested, privateNetwork)
    if (!lookup.waiting) return answerPreflight(request, reply, cors, origin, privateNetwork, allowed)
    return lookup
      .retry(() => preflightAllowed(policy, origin, method, requested, privateNetwork))
      .then((again) => answerPreflight(request, reply, cors, origin, privateNetwork, again))
  }

  /** What @fastify/cors wrote on an actual request: Vary always; the rest only for an allowed origin. */
  function writeActual (reply: FastifyReply, policy: CorsPolicy, origin: string, allowed: boolean): true {
    addOriginToVary(reply)
    if (!allowed) return true
    // Constant names straight into Fastify's header object (lib/reply-headers.ts).
    const headers = headersOf(reply)
    headers['access-control-allow-origin'] = policy.allowOrigin ?? origin
    if (policy.credentials) headers['access-control-allow-credentials'] = 'true'
    if (policy.exposedHeaders !== undefined) headers['access-control-expose-headers'] = policy.exposedHeaders
    return true
  }

  function policyFor (request: FastifyRequest): CorsPolicy | null {
    // `request.routeOptions` builds an object on every read: only once some route has its own policy.
    if (!anyRoutePolicy) return defaultPolicy
    const own = (routeConfigOf(request) as unknown as Record<symbol, RouteCors | undefined>)[kPolicy]
    return own === undefined ? defaultPolicy : own.policy
  }

  // The whole per-request work: pick a precomputed policy, look the origin
  // up, write precomputed values. Preflights are answered here too (before
  // any auth hook, which a browser's preflight could never pass), for the
  // catch-all route and for app-defined OPTIONS routes alike.
  addStep(fastify, 'rampartCors', function rampartCors (request: FastifyRequest, reply: FastifyReply): boolean | Promise<boolean> {
    const headers = request.headers
    const origin = headers.origin
    if (origin !== undefined && request.raw.method === 'OPTIONS') {
      const method = headers['access-control-request-method']
      if (typeof method === 'string') return preflight(request, reply, origin, method)
    }
    const policy = policyFor(request)
    if (policy === null) return true
    if (origin === undefined) return writeActual(reply, policy, '', false)
    if (lookup === undefined) return writeActual(reply, policy, origin, originAllowed(policy, origin))
    lookup.begin()
    const allowed = originAllowed(policy, origin)
    if (!lookup.waiting) return writeActual(reply, policy, origin, allowed)
    return lookup.retry(() => originAllowed(policy, origin)).then((again) => writeActual(reply, policy, origin, again))
  })

  // @fastify/cors, in a scope of its own, only for its catch-all OPTIONS
  // route (so a preflight to a path with no OPTIONS route has a route to
  // run through): every preflight is answered above, and `origin: false`
  // makes its hook, which runs on that route alone, leave the other OPTIONS
  // requests alone (they 404, as before). Registered in delegator mode on
  // the whole app, it cost every request an options object (issue 17).
  await fastify.register(async function rampartCorsOptionsRoute (child: FastifyInstance) {
    await child.register(fastifyCors, { origin: false })
  })
}

/* c8 ignore next -- find-my-way wants a handler; we only read each route's store */
function neverCalled (): void {}

export default fp(corsPlugin, { fastify: '5.x', name: 'fastify-rampart-cors' })
