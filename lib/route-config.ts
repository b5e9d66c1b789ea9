import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import type { TSchema } from 'typebox'
import { isPlainObject } from './copy.js'
import { invalidRouteConfig } from './errors.js'
import { createLogLimiter } from './log-limiter.js'
import { collectOptions, kindOf } from './options.js'
import { routeConfigOf } from './route-context.js'
import { addStep } from './steps.js'

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
  const problems = securityContainerProblems(security)
  if (problems.length > 0) throw invalidRouteConfig(routeName(routeOptions), problems)
  let keys = examined.get(routeOptions)
  if (keys === undefined) examined.set(routeOptions, (keys = new Set()))
  keys.add(key)
  return (security as Record<string, unknown>)[key]
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

// --- Which plugin serves which config.security key, per scope ---
//
// A route whose config.security names a plugin that is not registered in its
// scope would be accepted and do nothing: a route must never believe it is
// protected when it is not. Each plugin declares the key it serves when it
// is registered; a checker refuses, when the route is added, a key that no
// plugin in the route's scope (or a parent scope) serves, and at ready() a
// key that a plugin declared but never examined (it was registered after the
// route was added: an `app.register(...)` that was not awaited).

const kDeclared = Symbol('rampart.securityKeys')
const kChecker = Symbol('rampart.securityKeyChecker')
const kGuard = Symbol('rampart.securityGuard')
/** On the config of every route a checker saw; a route without it was added before any fastify-rampart plugin. */
const kChecked = Symbol('rampart.securityChecked')
const LOG_INTERVAL_MS = 10_000
// Written directly, as the plugins' own refusals are; the same code the
// route-add and ready() checks throw for the mistake they can see.
const UNAPPLIED = JSON.stringify({
  statusCode: 500,
  code: 'FST_RAMPART_INVALID_ROUTE_CONFIG',
  error: 'Internal Server Error',
  message: "This route's fastify-rampart settings were never applied",
})
/** Keys each route's config was read for by routeSecurityConfig, keyed by Fastify's per-route options object. */
const examined = new WeakMap<object, Set<string>>()

type Scope = FastifyInstance & { [kDeclared]?: Set<string>; [kChecker]?: RouteOptions[]; [kGuard]?: true }

/** The fastify-plugin name each key's plugin registers under, for plugins that do not call declareSecurityKey. */
const PLUGIN_NAMES: Record<string, string> = {
  headers: 'fastify-rampart-headers',
  trustedHost: 'fastify-rampart-trusted-host',
  cors: 'fastify-rampart-cors',
  rateLimit: 'fastify-rampart-rate-limit',
  jwt: 'fastify-rampart-jwt',
  webhook: 'fastify-rampart-webhook',
  mtls: 'fastify-rampart-mtls',
}

/**
 * Declares that the plugin being registered on `fastify` reads
 * `config.security.<key>` (through routeSecurityConfig in its onRoute hook)
 * for the routes of this scope and its children. Call it once, at register
 * time, next to `addHook('onRoute', ...)`:
 *
 * ```ts
 * declareSecurityKey(fastify, 'jwt')
 * fastify.addHook('onRoute', (routeOptions) => { const own = routeSecurityConfig(routeOptions, 'jwt'); ... })
 * ```
 *
 * Encapsulation-aware: a plugin in a child scope does not serve the parent's
 * routes. It also installs the checker that refuses route keys no plugin in
 * scope serves (FST_RAMPART_INVALID_ROUTE_CONFIG).
 */
export function declareSecurityKey (fastify: FastifyInstance, key: SecurityKey): void {
  const scope = fastify as Scope
  if (!Object.hasOwn(scope, kDeclared)) scope[kDeclared] = new Set()
  ;(scope[kDeclared] as Set<string>).add(key)
  installSecurityKeyCheck(fastify)
}

/** True when a plugin serving `key` is registered in `fastify`'s scope or a parent. */
export function securityKeyServed (fastify: FastifyInstance, key: string): boolean {
  for (let scope: Scope | null = fastify as Scope; scope !== null && scope !== Object.prototype; scope = Object.getPrototypeOf(scope)) {
    if (Object.hasOwn(scope, kDeclared) && (scope[kDeclared] as Set<string>).has(key)) return true
  }
  const name = PLUGIN_NAMES[key]
  return name !== undefined && fastify.hasPlugin(name)
}

/** What a key's plugin is called in messages. */
function pluginLabel (key: string): string {
  return `${key}Plugin (securityPlugin's ${key} option)`
}

/**
 * Installs, once per scope, the onRoute checker and the ready() check. Every
 * plugin of the suite calls it (through declareSecurityKey); securityPlugin
 * calls it before registering anything, so even a suite with every plugin
 * off still refuses route keys that would do nothing.
 */
export function installSecurityKeyCheck (fastify: FastifyInstance): void {
  const scope = fastify as Scope
  if (Object.hasOwn(scope, kChecker)) return
  const seen: RouteOptions[] = []
  scope[kChecker] = seen
  fastify.addHook('onRoute', function rampartSecurityKeys (this: FastifyInstance, routeOptions: RouteOptions) {
    const security = (routeOptions.config as { security?: unknown } | undefined)?.security
    if (security === undefined) return
    const problems = securityContainerProblems(security)
    if (problems.length === 0) {
      for (const key of Object.keys(security as object)) {
        const value = (security as Record<string, unknown>)[key]
        // `false` turns off what is not there anyway: harmless, and lets shared route modules say it.
        if (value === undefined || value === false || securityKeyServed(this, key)) continue
        problems.push(
          `config.security.${key}: no ${pluginLabel(key)} is registered in this route's scope, so this setting would do nothing; register it in this scope or a parent before adding the route (if you did, \`await app.register(...)\` before adding routes)`
        )
      }
    }
    if (problems.length > 0) throw invalidRouteConfig(routeName(routeOptions), problems)
    seen.push(routeOptions)
    attachToRoute(routeOptions, kChecked, true)
  })
  installGuard(fastify)
  fastify.addHook('onReady', async function rampartSecurityKeysExamined (this: FastifyInstance) {
    const problems: string[] = []
    const routes: string[] = []
    for (const routeOptions of seen) {
      // A later onRoute hook may have refused the route after the checker saw it.
      if (!added(this, routeOptions)) continue
      const security = (routeOptions.config as { security: Record<string, unknown> }).security
      const done = examined.get(routeOptions)
      for (const key of Object.keys(security)) {
        const value = security[key]
        if (value === undefined || value === false || done?.has(key) === true) continue
        routes.push(routeName(routeOptions))
        problems.push(
          `${routeName(routeOptions)}: config.security.${key} was never read: its plugin was registered after this route was added; \`await app.register(...)\` each fastify-rampart plugin before adding routes`
        )
      }
    }
    // Routes seen again by a parent's checker are reported once.
    seen.length = 0
    if (problems.length > 0) throw invalidRouteConfig([...new Set(routes)].join(', '), [...new Set(problems)])
  })
}

/**
 * The case no check at route add or ready() can see: routes added before
 * *any* fastify-rampart plugin existed in the app (its first `register` not
 * awaited). Fastify runs an fp plugin's global hooks on those routes too, so
 * one step refuses each request to a route whose config.security asks for
 * something no plugin ever read: such a route must not run as if protected.
 * Once per scope tree: a child scope under a guarded parent is covered.
 */
function installGuard (fastify: FastifyInstance): void {
  for (let scope: Scope | null = fastify as Scope; scope !== null && scope !== Object.prototype; scope = Object.getPrototypeOf(scope)) {
    if (Object.hasOwn(scope, kGuard)) return
  }
  ;(fastify as Scope)[kGuard] = true
  const logLimiter = createLogLimiter(LOG_INTERVAL_MS)
  addStep(fastify, 'rampartUnappliedRouteConfig', function rampartUnappliedRouteConfig (request: FastifyRequest, reply: FastifyReply): boolean {
    if (request.is404) return true
    const config = routeConfigOf(request) as { security?: unknown; [kChecked]?: true }
    if (config.security === undefined || config[kChecked] === true || !asksForSomething(config.security)) return true
    const suppressed = logLimiter.take()
    if (suppressed >= 0) {
      request.log.error(
        { code: 'FST_RAMPART_INVALID_ROUTE_CONFIG', route: `${request.method} ${request.routeOptions.url}`, suppressed },
        'fastify-rampart: this route was added before any fastify-rampart plugin was registered, so its config.security was never applied; refused. `await app.register(...)` before adding routes'
      )
    }
    reply.code(500).type('application/json; charset=utf-8').send(UNAPPLIED)
    return false
  })
}

/** `false` (or nothing) under every key asks for nothing: such a route loses nothing by being unseen. */
function asksForSomething (security: unknown): boolean {
  if (!isPlainObject(security)) return true
  for (const key of Object.keys(security)) {
    const value = security[key]
    if (value !== undefined && value !== false) return true
  }
  return false
}

function added (fastify: FastifyInstance, routeOptions: RouteOptions): boolean {
  const method = Array.isArray(routeOptions.method) ? routeOptions.method[0] : routeOptions.method
  return fastify.hasRoute({ method: method as 'GET', url: routeOptions.url, constraints: routeOptions.constraints })
}

/** Problems with the `security` container itself: not an object, or unknown keys (with a "did you mean"). */
export function securityContainerProblems (security: unknown): string[] {
  if (!isPlainObject(security)) return [`config.security: must be an object (got ${kindOf(security)})`]
  return Object.keys(security)
    .filter((k) => !(SECURITY_KEYS as readonly string[]).includes(k))
    .map((k) => `config.security.${k}: is not a known option (expected ${SECURITY_KEYS.join(', ')})`)
}

/** `prefix<key>: is not a known option (did you mean "x"?) (expected a, b, c)` for each unknown key. */
export function unknownKeyProblems (keys: string[], known: readonly string[], prefix: string): string[] {
  return keys
    .filter((k) => !known.includes(k))
    .map((k) => {
      const near = closest(k, known)
      return `${prefix}${k}: is not a known option${near === undefined ? '' : ` (did you mean "${near}"?)`} (expected ${known.join(', ')})`
    })
}

/** The known name within edit distance 2 (or a case-insensitive match), if any. */
function closest (word: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of known) {
    const d = candidate.toLowerCase() === word.toLowerCase() ? 0 : distance(word, candidate)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

function distance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]
}
