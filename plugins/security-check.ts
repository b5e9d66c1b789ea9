// securityPlugin's "every problem at once": the options of every plugin it
// registers, and each route's config.security under every key, are checked
// together (with each plugin's own resolve step), so a user fixes them all in
// one restart. The plugins check again when they register; only the first
// check can list everything.

import type { FastifyInstance, RouteOptions } from 'fastify'
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { isPlainObject, mergeOver } from '../lib/copy.js'
import { collectOptions, kindOf, withoutDefaults, withoutRegisterKeys } from '../lib/options.js'
import { explainRouteConfig, routeName, unknownKeyProblems } from '../lib/route-config.js'
import { trustProxyOf } from '../lib/trust-proxy.js'
import { CorsRouteSchema } from '../schemas/cors.js'
import { HeadersOptionsSchema } from '../schemas/headers.js'
import { JwtOptionsSchema } from '../schemas/jwt.js'
import { MtlsOptionsSchema } from '../schemas/mtls.js'
import { SecurityOptionsSchema } from '../schemas/security.js'
import { WebhookOptionsSchema } from '../schemas/webhook.js'
import { type TrustedHostOptions, TrustedHostOptionsSchema, TrustedHostRouteSchema } from '../schemas/trusted-host.js'
import { resolve as resolveCors } from './cors/plugin.js'
import { resolveHeaderSet } from './headers/resolve.js'
import { resolveRateLimit, type Settings } from './rate-limit/resolve.js'
import { resolveMatcher } from './trusted-host/resolve.js'

export const PLUGIN_KEYS = Object.keys(SecurityOptionsSchema.properties)

/** What securityPlugin registers, with each plugin's input as given (register keys removed). */
export interface Plan {
  headers: unknown
  trustedHost: unknown
  cors: unknown
  rateLimit: unknown
  jwt: unknown
  webhook: unknown
  mtls: unknown
  /** The rate limit's resolved settings, for checking route configs. */
  rateLimitSettings: Settings | undefined
}

function on (value: unknown): boolean {
  return value !== undefined && value !== false
}

/** A RegExp in cors.origins: say what to use instead, and check the other origins anyway. */
function withoutRegExpOrigins (cors: unknown, problems: string[]): unknown {
  if (!isPlainObject(cors) || !Array.isArray(cors.origins)) return cors
  const origins = cors.origins as unknown[]
  if (!origins.some((o) => o instanceof RegExp)) return cors
  origins.forEach((o, i) => {
    if (o instanceof RegExp) {
      problems.push(`cors.origins[${i}]: a regular expression is not accepted (unanchored ones match lookalike origins); list exact origins or "https://*.example.com" patterns, and use originMatcher (a function) for anything else`)
    }
  })
  // Stand-ins keep the other entries' indexes, so their problems name the right entry.
  return { ...cors, origins: origins.map((o, i) => (o instanceof RegExp ? `https://regexp-${i}.invalid` : o)) }
}

/** Checks securityPlugin's own object and every plugin's options; returns what to register. */
export function checkSecurityOptions (fastify: FastifyInstance, options: unknown, problems: string[]): Plan {
  const input = withoutRegisterKeys(options)
  const plan: Plan = { headers: {}, trustedHost: undefined, cors: undefined, rateLimit: {}, jwt: undefined, webhook: {}, mtls: undefined, rateLimitSettings: undefined }
  if (!isPlainObject(input)) {
    problems.push(`securityPlugin options: must be an object (got ${kindOf(input)})`)
    return plan
  }
  const known: Record<string, unknown> = {}
  for (const key of Object.keys(input)) if (PLUGIN_KEYS.includes(key)) known[key] = input[key]
  collectOptions(SecurityOptionsSchema, known, '', problems)
  problems.push(...unknownKeyProblems(Object.keys(input), PLUGIN_KEYS, ''))
  // A slot that is neither false nor an object was reported above; the other plugins are still checked.
  const slot = (value: unknown, fallback: unknown) => (value === undefined ? fallback : value === false || isPlainObject(value) ? value : false)
  plan.headers = slot(input.headers, {})
  plan.trustedHost = slot(input.trustedHost, undefined)
  plan.cors = slot(input.cors, undefined)
  plan.rateLimit = slot(input.rateLimit, {})
  plan.jwt = slot(input.jwt, undefined)
  plan.webhook = slot(input.webhook, {})
  plan.mtls = slot(input.mtls, undefined)
  // The newer plugins' option schemas, checked here too so their problems are listed with the rest.
  if (on(plan.jwt)) collectOptions(JwtOptionsSchema, plan.jwt, 'jwt', problems)
  if (on(plan.webhook)) collectOptions(WebhookOptionsSchema, plan.webhook, 'webhook', problems)
  if (on(plan.mtls)) collectOptions(MtlsOptionsSchema, plan.mtls, 'mtls', problems)
  if (on(plan.trustedHost)) {
    const start = problems.length
    const resolved = collectOptions<TrustedHostOptions>(TrustedHostOptionsSchema, plan.trustedHost, 'trustedHost', problems)
    if (problems.length === start) resolveMatcher(resolved.allowedHosts, 'trustedHost.allowedHosts', problems)
    if (resolved.useForwardedHost === true && !trustProxyOf(fastify)) {
      problems.push(
        "trustedHost.useForwardedHost: needs Fastify's trustProxy set to your proxies (e.g. trustProxy: ['10.0.0.0/8']); otherwise any client could choose its X-Forwarded-Host"
      )
    }
  }
  if (on(plan.cors)) resolveCors(withoutRegExpOrigins(plan.cors, problems), 'cors', problems)
  if (on(plan.rateLimit)) plan.rateLimitSettings = resolveRateLimit(plan.rateLimit, trustProxyOf(fastify) === true, problems)
  if (on(plan.headers)) resolveHeaderSet(plan.headers, 'headers', problems)
  return plan
}

const TrustedHostRouteCheck = Compile(TrustedHostRouteSchema)
const CorsRouteCheck = Compile(CorsRouteSchema)
const HeadersRouteCheck = Compile(Type.Union([Type.Literal(false), withoutDefaults(HeadersOptionsSchema)]))

/**
 * One route's config.security, every key at once, with the same checks the
 * plugins make (they run after this and would each stop at their own).
 * Keys of plugins that are off are left to the key checker in
 * lib/route-config.ts, which names the missing plugin.
 */
export function routeConfigProblems (plan: Plan, routeOptions: RouteOptions, groups: Map<string, string>): string[] {
  const security = (routeOptions.config as { security?: unknown } | undefined)?.security
  if (security === undefined) return []
  // The key checker (lib/route-config.ts) runs first and has refused a malformed container.
  const own = security as Record<string, unknown>
  const problems: string[] = []
  if (own.trustedHost !== undefined && on(plan.trustedHost)) {
    const path = 'config.security.trustedHost'
    if (!TrustedHostRouteCheck.Check(own.trustedHost)) explainRouteConfig(TrustedHostRouteSchema, own.trustedHost, path, problems)
    else if (own.trustedHost !== false) resolveMatcher(own.trustedHost.allowedHosts, `${path}.allowedHosts`, problems)
  }
  if (own.cors !== undefined && on(plan.cors)) {
    const path = 'config.security.cors'
    if (!CorsRouteCheck.Check(own.cors)) explainRouteConfig(CorsRouteSchema, own.cors, path, problems)
    else if (own.cors !== false) resolveCors(mergeOver(plan.cors, own.cors), path, problems)
  }
  if (own.rateLimit !== undefined && plan.rateLimitSettings !== undefined) {
    plan.rateLimitSettings.resolveRoute(own.rateLimit, routeName(routeOptions), groups, problems)
  }
  if (own.headers !== undefined && own.headers !== false && on(plan.headers)) {
    const path = 'config.security.headers'
    if (!isPlainObject(own.headers)) problems.push(`${path}: must be false or an object (got ${kindOf(own.headers)})`)
    else resolveHeaderSet(HeadersRouteCheck.Check(own.headers) ? mergeOver(plan.headers, own.headers) : own.headers, path, problems)
  }
  return problems
}
