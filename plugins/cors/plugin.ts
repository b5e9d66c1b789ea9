import fastifyCors from '@fastify/cors'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import FindMyWay, { type HTTPVersion, type Instance } from 'find-my-way'
import { Compile } from 'typebox/compile'
import { mergeOver } from '../../lib/copy.js'
import { CorsPreflightRefusedError, invalidOptions, invalidRouteConfig } from '../../lib/errors.js'
import { collectOptions, withoutRegisterKeys } from '../../lib/options.js'
import { addRouteHook, attachToRoute, explainRouteConfig, routeName, routeSecurityConfig } from '../../lib/route-config.js'
import { type CorsOptions, CorsOptionsSchema, CorsRouteSchema } from '../../schemas/cors.js'
import { varyWithOrigin } from './vary.js'
import { type CorsPolicy, originAllowed, preflightAllowed, type ResolvedCors, resolvePolicy, type WireOptions } from './policy.js'

const RouteConfigCheck = Compile(CorsRouteSchema)
const kPrivateNetwork = Symbol('rampart.cors.privateNetwork')
const kRefused = Symbol('rampart.cors.refused')
// Chromium caps Access-Control-Max-Age at 7200 s (Firefox at 86400).
const CHROMIUM_MAX_AGE = 7200

type Marked = FastifyRequest & { [kPrivateNetwork]?: boolean; [kRefused]?: boolean }

function pathOf (url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

export function resolve (input: unknown, path: string, problems: string[]): CorsPolicy | undefined {
  const before = problems.length
  const options = collectOptions<ResolvedCors>(CorsOptionsSchema, input, path, problems)
  if (problems.length > before) return undefined
  return resolvePolicy(options, path, problems)
}

async function corsPlugin (fastify: FastifyInstance, options: CorsOptions): Promise<void> {
  const input = withoutRegisterKeys(options)
  const problems: string[] = []
  const defaultPolicy = resolve(input, 'cors', problems)
  if (problems.length > 0 || defaultPolicy === undefined) throw invalidOptions(problems)
  if ((input as ResolvedCors).maxAge > CHROMIUM_MAX_AGE) {
    fastify.log.warn(
      { maxAge: (input as ResolvedCors).maxAge },
      'fastify-rampart: cors.maxAge is above 7200 s; Chromium caps preflight caching there'
    )
  }

  const kPolicy = Symbol('rampart.cors.route')
  let anyRoutePolicy = false
  // @fastify/cors answers every preflight from one catch-all OPTIONS route,
  // blind to the route the browser is asking about. This router, with
  // Fastify's own matching rules, finds that route's policy instead.
  const config = fastify.initialConfig
  const preflightRouter: Instance<HTTPVersion.V1> = FindMyWay({
    ignoreTrailingSlash: config.ignoreTrailingSlash,
    ignoreDuplicateSlashes: config.ignoreDuplicateSlashes,
    caseSensitive: config.caseSensitive,
    maxParamLength: config.maxParamLength,
  })

  function preflightHeaders (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, p: unknown) => void): void {
    if ((request as Marked)[kPrivateNetwork] === true) reply.header('access-control-allow-private-network', 'true')
    // A refused preflight ends as an error, before @fastify/cors wrote Vary: the answer still depends on Origin.
    if ((request as Marked)[kRefused] === true) reply.header('vary', varyWithOrigin(reply.getHeader('vary')))
    done(null, payload)
  }

  fastify.addHook('onRoute', function rampartCorsRoute (routeOptions: RouteOptions) {
    const methods = Array.isArray(routeOptions.method) ? routeOptions.method : [routeOptions.method]
    if (methods.includes('OPTIONS')) {
      // @fastify/cors knows nothing of Private Network Access; OPTIONS routes add the header.
      addRouteHook(routeOptions, 'onSend', preflightHeaders, true)
    }
    const own = routeSecurityConfig(routeOptions, 'cors')
    if (own === undefined) return
    const path = 'config.security.cors'
    const routeProblems: string[] = []
    let policy: CorsPolicy | null = null
    if (!RouteConfigCheck.Check(own)) {
      explainRouteConfig(CorsRouteSchema, own, path, routeProblems)
    } else if (own !== false) {
      // The route passed its schema, so only semantic problems can follow (and then we throw below).
      policy = resolve(mergeOver(input, own), path, routeProblems) as CorsPolicy
    }
    if (routeProblems.length > 0) throw invalidRouteConfig(routeName(routeOptions), routeProblems)
    attachToRoute(routeOptions, kPolicy, policy)
    // @fastify/cors's own per-route switch: the route then pays nothing for CORS.
    if (policy === null) attachToRoute(routeOptions, 'cors' as unknown as symbol, false)
    anyRoutePolicy = true
    for (const method of methods) {
      if (method !== 'OPTIONS') preflightRouter.on(method as 'GET', routeOptions.url, neverCalled, { policy })
    }
  })

  function policyFor (request: FastifyRequest): CorsPolicy | null {
    if (!anyRoutePolicy) return defaultPolicy as CorsPolicy
    const own = (request.routeOptions.config as unknown as Record<symbol, CorsPolicy | null | undefined>)[kPolicy]
    return own === undefined ? (defaultPolicy as CorsPolicy) : own
  }

  function preflightPolicy (request: FastifyRequest, method: string): CorsPolicy | null {
    if (!anyRoutePolicy) return defaultPolicy as CorsPolicy
    const found = preflightRouter.find(method.toUpperCase() as 'GET', pathOf(request.raw.url as string))
    return found === null ? (defaultPolicy as CorsPolicy) : (found.store as { policy: CorsPolicy | null }).policy
  }

  // Our decisions, @fastify/cors's wire mechanics: it writes the headers
  // (Vary merged without duplicates) and answers allowed preflights.
  function rampartCorsDelegator (
    request: FastifyRequest,
    callback: (err: Error | null, options?: WireOptions) => void
  ): void {
    const headers = request.headers
    const origin = headers.origin
    const method = headers['access-control-request-method']
    if (request.raw.method === 'OPTIONS' && origin !== undefined && typeof method === 'string') {
      const policy = preflightPolicy(request, method)
      const privateNetwork = headers['access-control-request-private-network'] === 'true'
      const requested = headers['access-control-request-headers'] as string | undefined
      if (policy === null || !preflightAllowed(policy, origin, method, requested, privateNetwork)) {
        // @fastify/cors would let a refused preflight fall through to its
        // catch-all route (a 404 after the app's own hooks); an error ends it
        // here, as a 403 without CORS headers, before any auth hook runs.
        ;(request as Marked)[kRefused] = true
        return callback(new CorsPreflightRefusedError())
      }
      if (privateNetwork) (request as Marked)[kPrivateNetwork] = true
      return callback(null, policy.preflight)
    }
    const policy = policyFor(request)
    if (policy === null) return callback(null, (defaultPolicy as CorsPolicy).deny)
    callback(null, origin !== undefined && originAllowed(policy, origin) ? policy.allow : policy.deny)
  }

  await fastify.register(fastifyCors, { delegator: rampartCorsDelegator as never, hook: 'onRequest' })
}

/* c8 ignore next -- find-my-way wants a handler; we only read each route's store */
function neverCalled (): void {}

export default fp(corsPlugin, { fastify: '5.x', name: 'fastify-rampart-cors' })
