import type { RouteOptions } from 'fastify'
import type { TSchema } from 'typebox'
import { isPlainObject } from './copy.js'
import { invalidRouteConfig } from './errors.js'
import { collectOptions, kindOf } from './options.js'

/** Every key `config.security` may hold, one per plugin of the suite. */
export const SECURITY_KEYS = ['headers', 'trustedHost', 'cors', 'rateLimit', 'jwt', 'webhook', 'mtls'] as const
export type SecurityKey = (typeof SECURITY_KEYS)[number]

export function routeName (routeOptions: Pick<RouteOptions, 'method' | 'url'>): string {
  const method = Array.isArray(routeOptions.method) ? routeOptions.method.join(',') : routeOptions.method
  return `${method} ${routeOptions.url}`
}

/**
 * Returns `config.security[key]` for a route being added, after checking the
 * `security` container itself (an object of known keys), so a typo such as
 * `security.header` fails at `app.get()` instead of being silently ignored.
 */
export function routeSecurityConfig (routeOptions: RouteOptions, key: SecurityKey): unknown {
  const security = (routeOptions.config as { security?: unknown } | undefined)?.security
  if (security === undefined) return undefined
  if (!isPlainObject(security)) {
    throw invalidRouteConfig(routeName(routeOptions), [
      `config.security: must be an object (got ${kindOf(security)})`,
    ])
  }
  const unknown = Object.keys(security).filter((k) => !(SECURITY_KEYS as readonly string[]).includes(k))
  if (unknown.length > 0) {
    throw invalidRouteConfig(
      routeName(routeOptions),
      unknown.map(
        (k) => `config.security.${k}: is not a known option (expected ${SECURITY_KEYS.join(', ')})`
      )
    )
  }
  return security[key]
}

/**
 * Explains a route config that failed its compiled `false | {...}` check:
 * one line per problem, with the same wording as plugin options. Always
 * pushes at least one line: a failed check must end in an error, never in
 * "no problem found", which the plugins would read as a valid config (issue 10).
 */
export function explainRouteConfig (schema: { anyOf: TSchema[] }, own: unknown, path: string, problems: string[]): void {
  const before = problems.length
  if (isPlainObject(own)) collectOptions(schema.anyOf[1], own, path, problems)
  else problems.push(`${path}: must be false or an object (got ${kindOf(own)})`)
  if (problems.length === before) problems.push(`${path}: does not match the route config schema`)
}

/**
 * Adds a route-level hook, keeping whatever the route already had there (a
 * function, a list, or nothing). `first` puts it ahead of the route's own.
 */
export function addRouteHook (routeOptions: RouteOptions, name: 'onRequest' | 'preParsing' | 'preValidation' | 'preHandler' | 'onSend', hook: unknown, first = false): void {
  const existing = routeOptions[name] as unknown
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]
  routeOptions[name] = (first ? [hook, ...list] : [...list, hook]) as never
}

/**
 * Adds `value` under a plugin-private symbol on the route's config, without
 * mutating the user's object (it may be shared between routes). Fastify
 * copies the config, symbols included, into the route context after the
 * onRoute hooks run.
 */
export function attachToRoute (routeOptions: RouteOptions, symbol: symbol, value: unknown): void {
  routeOptions.config = { ...routeOptions.config, [symbol]: value } as RouteOptions['config']
}
