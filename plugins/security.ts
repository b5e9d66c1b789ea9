import type { FastifyInstance, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { invalidOptions, invalidRouteConfig } from '../lib/errors.js'
import { declareSecurityKey, installSecurityKeyCheck, routeName } from '../lib/route-config.js'
import type { CorsOptions } from '../schemas/cors.js'
import type { HeadersOptions } from '../schemas/headers.js'
import type { RateLimitOptions } from '../schemas/rate-limit.js'
import type { SecurityOptions } from '../schemas/security.js'
import type { TrustedHostOptions } from '../schemas/trusted-host.js'
import corsPlugin from './cors/plugin.js'
import headersPlugin from './headers/plugin.js'
import { rateLimitHeaderNames } from './rate-limit/buckets.js'
import rateLimitPlugin, { preflightLimitStep } from './rate-limit/plugin.js'
import { addStep, endFusing, startFusing } from '../lib/steps.js'
import { checkSecurityOptions, routeConfigProblems } from './security-check.js'
import trustedHostPlugin from './trusted-host/plugin.js'
import jwtPlugin from './jwt/plugin.js'
import mtlsPlugin from './mtls/plugin.js'
import webhookPlugin from './webhook/plugin.js'
import type { JwtOptions } from '../schemas/jwt.js'
import type { MtlsOptions } from '../schemas/mtls.js'
import type { WebhookOptions } from '../schemas/webhook.js'

function on<T> (value: T | false | undefined): value is T {
  return value !== undefined && value !== false
}

/**
 * Registers the suite from one options object, in a fixed order: the host
 * check first (onRequest), then mTLS peer authorization (the identity other
 * hooks may need), then the preflight count of the rate limit, then CORS
 * (preflights answered before auth hooks), then the rate limit (its IP
 * bucket in onRequest, before any auth hook registered later can answer),
 * then bearer tokens (verified in onRequest after the IP bucket, so a flood
 * of forged tokens costs no crypto past the limit; the principal bucket runs
 * in a later hook, after verification), then webhooks (preParsing, on the
 * routes that ask); headers are written in onSend, so they also land on the
 * answers the other plugins give (400, 401, 403, 429, 503).
 *
 * Every problem of every plugin's options is listed in one error, and each
 * route's config.security is checked under all its keys at once.
 */
async function securityPlugin (fastify: FastifyInstance, options: SecurityOptions): Promise<void> {
  const problems: string[] = []
  const plan = checkSecurityOptions(fastify, options, problems)
  if (problems.length > 0) throw invalidOptions(problems)
  // One onRequest hook runs every plugin's step below, in this order (issue 17).
  startFusing(fastify)
  // Before any plugin: a route naming a plugin that is off is refused too.
  installSecurityKeyCheck(fastify)
  const groups = new Map<string, string>()
  fastify.addHook('onRoute', function rampartSecurityRoute (routeOptions: RouteOptions) {
    const routeProblems = routeConfigProblems(plan, routeOptions, groups)
    if (routeProblems.length > 0) throw invalidRouteConfig(routeName(routeOptions), routeProblems)
  })

  const trustedHost = plan.trustedHost as TrustedHostOptions | false | undefined
  const cors = plan.cors as CorsOptions | false | undefined
  const rateLimit = plan.rateLimit as RateLimitOptions | false
  const headers = plan.headers as HeadersOptions | false
  const jwt = plan.jwt as JwtOptions | false | undefined
  const webhook = plan.webhook as WebhookOptions | false
  const mtls = plan.mtls as MtlsOptions | false | undefined
  if (on(trustedHost)) {
    await fastify.register(trustedHostPlugin, trustedHost)
    declareSecurityKey(fastify, 'trustedHost')
  }
  if (on(mtls)) await fastify.register(mtlsPlugin, mtls)
  if (on(cors)) {
    // CORS answers preflights in its onRequest hook: count them first.
    if (rateLimit !== false) addStep(fastify, 'rampartPreflightLimit', preflightLimitStep(fastify))
    // Scripts can read the limit and Retry-After only if CORS exposes them.
    const exposed = rateLimit === false
      ? cors.exposedHeaders
      : [...new Set([...(cors.exposedHeaders ?? []), ...rateLimitHeaderNames(rateLimit.headers)])]
    await fastify.register(corsPlugin, { ...cors, exposedHeaders: exposed })
    declareSecurityKey(fastify, 'cors')
  }
  if (rateLimit !== false) await fastify.register(rateLimitPlugin, rateLimit)
  if (on(jwt)) await fastify.register(jwtPlugin, jwt)
  if (webhook !== false) await fastify.register(webhookPlugin, webhook)
  if (headers !== false) {
    await fastify.register(headersPlugin, headers)
    declareSecurityKey(fastify, 'headers')
  }
  endFusing(fastify)
  fastify.log.debug(
    {
      trustedHost: on(trustedHost),
      cors: on(cors),
      rateLimit: rateLimit !== false,
      jwt: on(jwt),
      webhook: webhook !== false,
      mtls: on(mtls),
      headers: headers !== false,
    },
    'fastify-rampart: security plugins registered'
  )
}

export default fp(securityPlugin, { fastify: '5.x', name: 'fastify-rampart' })
