import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import { Compile } from 'typebox/compile'
import { BoundedMap } from '../../lib/bounded-map.js'
import { toMs } from '../../lib/duration.js'
import { invalidOptions, invalidRouteConfig } from '../../lib/errors.js'
import { createLogLimiter } from '../../lib/log-limiter.js'
import { collectOptions, withoutRegisterKeys } from '../../lib/options.js'
import { attachToRoute, explainRouteConfig, routeName, routeSecurityConfig, declareSecurityKey } from '../../lib/route-config.js'
import { addStep, fusedPlugin } from '../../lib/steps.js'
import { type JwtOptions, JwtOptionsSchema, type JwtRouteConfig, JwtRouteSchema } from '../../schemas/jwt.js'
import { type Answer, Answers, ROUTE_CONFIG_UNREAD, send } from './answers.js'
import { readCredentials } from './bearer.js'
import { type Issuer, resolveIssuer } from './issuers.js'
import { KeysUnavailable } from './key-set.js'
import { RevocationList, RevocationSync, type TimeInput, toEpochMs } from './revocation.js'
import { type ScopeRule, scopeRule, scopesAllow } from './scopes.js'
import { type JwtAuth, normaliseTyp, TokenRefused, unverifiedIssuer, type Verified, type VerifyPolicy, verifyToken } from './verify.js'
import { routeConfigOf } from '../../lib/route-context.js'

declare module '../../schemas/security.js' {
  interface SecurityRouteConfig {
    /** `false` (a public route) or the route's scopes, optional auth and issuers. */
    jwt?: JwtRouteConfig
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified bearer token of this request, or `null` (an anonymous request on an optional or public route). */
    auth: JwtAuth | null
  }
  interface FastifyInstance {
    /** Revokes one token by its `jti` until it would have expired (a Date, or `exp` in seconds). */
    revokeToken(jti: string, expiresAt: TimeInput): Promise<void>
    /** Revokes every token of `subject` issued before `issuedBefore` (default: now): "log out everywhere". */
    revokeSubject(subject: string, issuedBefore?: TimeInput): Promise<void>
  }
}

const RouteConfigCheck = Compile(JwtRouteSchema)
const LOG_INTERVAL_MS = 10_000
const CORS_PLUGIN = 'fastify-rampart-cors'
// With maxTokenAge off nothing bounds how long a token issued before a
// subject revocation may live: the revocation is kept this long.
const SUBJECT_REVOCATION_WITHOUT_MAX_AGE_MS = 30 * 86_400_000

interface Defaulted {
  typ: false | string | string[]
  clockTolerance: string | number
  maxTokenAge: false | string | number
  requiredClaims: string[]
  jwks: Required<NonNullable<JwtOptions['jwks']>>
  revocation: { store?: { redis: Redis | string; prefix: string }; maxEntries: number }
  cache: false | { maxEntries: number }
  realm: string
}
type Resolved = Omit<JwtOptions, keyof Defaulted> & Defaulted

interface RouteAuth {
  optional: boolean
  issuers: Set<string> | undefined
  scopes: ScopeRule | undefined
}

/** A route's decision: `false` in its config. */
const PUBLIC = null
/** Routes without their own config, seen or not: a token is required. */
const DEFAULT_ROUTE: RouteAuth = { optional: false, issuers: undefined, scopes: undefined }

interface Cached extends Verified {
  /** The key set's generation the token was verified against: a key set change means verifying again. */
  generation: number
  issuer: Issuer
}

/** `issuer + ' ' + subject` of a verified request, for per-token rate-limit buckets; undefined when anonymous. */
export function jwtPrincipal (request: FastifyRequest): string | undefined {
  const auth = request.auth
  if (auth === null || auth === undefined) return undefined
  return `${auth.issuer} ${auth.subject}`
}

function generationOf (issuer: Issuer): number {
  return issuer.keys instanceof Uint8Array ? 0 : issuer.keys.generation
}

/** A cached verification stands while its issuer's keys are the ones it was made with, and usable. */
function stillGood (entry: Cached): boolean {
  const keys = entry.issuer.keys
  return keys instanceof Uint8Array || (entry.generation === keys.generation && keys.keep())
}

async function jwtPlugin (fastify: FastifyInstance, options: JwtOptions): Promise<void> {
  const problems: string[] = []
  const o = collectOptions<Resolved>(JwtOptionsSchema, withoutRegisterKeys(options), 'jwt', problems)
  if (problems.length > 0) throw invalidOptions(problems)
  const now = o.now ?? (() => Date.now())
  const issuers = new Map<string, Issuer>()
  o.issuers.forEach((cfg, i) => {
    const path = `jwt.issuers[${i}]`
    if (issuers.has(cfg.issuer)) problems.push(`${path}.issuer: is listed twice`)
    issuers.set(cfg.issuer, resolveIssuer(cfg, path, { jwks: o.jwks, now, log: fastify.log }, problems))
  })
  if (problems.length > 0) throw invalidOptions(problems)
  if (o.typ === false) {
    fastify.log.warn('fastify-rampart: jwt.typ is false: an ID token can pass as an access token where audiences overlap (RFC 8725 §3.11)')
  }

  const maxTokenAgeMs = o.maxTokenAge === false ? undefined : toMs(o.maxTokenAge)
  const clockToleranceMs = toMs(o.clockTolerance)
  const requiredClaims = maxTokenAgeMs === undefined ? o.requiredClaims : [...new Set([...o.requiredClaims, 'iat'])]
  const policy: VerifyPolicy = {
    typ: o.typ === false ? undefined : new Set((typeof o.typ === 'string' ? [o.typ] : o.typ).map(normaliseTyp)),
    clockToleranceSeconds: clockToleranceMs / 1000,
    maxTokenAgeSeconds: maxTokenAgeMs === undefined ? undefined : maxTokenAgeMs / 1000,
    requiredClaims,
    now: o.now,
  }
  const answers = new Answers(o.realm)
  const refusals = createLogLimiter(LOG_INTERVAL_MS, now)
  const cache = o.cache === false ? undefined : new BoundedMap<Cached>({ maxKeys: o.cache.maxEntries, now })

  const revoked = new RevocationList(o.revocation.maxEntries, now)
  const store = o.revocation.store
  const sync = store === undefined ? undefined : new RevocationSync({ redis: store.redis, prefix: store.prefix, log: fastify.log, list: revoked, now })
  if (sync !== undefined) {
    fastify.addHook('onClose', async () => sync.close())
    await sync.start()
  }

  fastify.decorateRequest('auth', null)
  fastify.decorate('revokeToken', async function revokeToken (jti: string, expiresAt: TimeInput): Promise<void> {
    const until = toEpochMs(expiresAt)
    if (typeof jti !== 'string' || jti === '' || !Number.isFinite(until)) throw new TypeError('revokeToken(jti, expiresAt): jti must be a non-empty string and expiresAt a Date or a time')
    if (!revoked.addToken(jti, until)) throw new Error('fastify-rampart: the revocation list is full (jwt.revocation.maxEntries)')
    await sync?.revokeToken(jti, until)
  })
  fastify.decorate('revokeSubject', async function revokeSubject (subject: string, issuedBefore: TimeInput = now()): Promise<void> {
    const before = toEpochMs(issuedBefore)
    if (typeof subject !== 'string' || subject === '' || !Number.isFinite(before)) throw new TypeError('revokeSubject(subject, issuedBefore): subject must be a non-empty string and issuedBefore a Date or a time')
    const until = before + (maxTokenAgeMs === undefined ? SUBJECT_REVOCATION_WITHOUT_MAX_AGE_MS : maxTokenAgeMs + clockToleranceMs)
    if (!revoked.addSubject(subject, before, until)) throw new Error('fastify-rampart: the revocation list is full (jwt.revocation.maxEntries)')
    await sync?.revokeSubject(subject, before, until)
  })

  /** Answers the request (sent, not thrown) and says so to the step runner: false, stop here. */
  function refused (request: FastifyRequest, reply: FastifyReply, answer: Answer, reason: string): false {
    const suppressed = refusals.take()
    if (suppressed >= 0) request.log.info({ status: answer.status, reason, suppressed }, 'fastify-rampart: bearer token refused')
    send(reply, answer)
    return false
  }

  async function verifyFresh (token: string, allowed: Set<string> | undefined): Promise<Cached> {
    const iss = unverifiedIssuer(token)
    // Picked before any key is looked up: an unknown issuer costs no network request.
    const issuer = issuers.get(iss)
    if (issuer === undefined) throw new TokenRefused('unknown issuer')
    if (allowed !== undefined && !allowed.has(iss)) throw new TokenRefused('issuer not accepted here')
    const generation = generationOf(issuer)
    const verified = await verifyToken(token, issuer, policy)
    const entry: Cached = { ...verified, generation, issuer }
    const ttl = verified.validUntil - now()
    if (cache !== undefined && ttl > 0) cache.set(token, entry, ttl)
    return entry
  }

  /** After the token is known good: revocation, then the route's scopes. */
  function admit (request: FastifyRequest, reply: FastifyReply, route: RouteAuth, entry: Cached): boolean {
    const auth = entry.auth
    if (revoked.revoked(auth.claims.jti, auth.subject, auth.claims.iat)) return refused(request, reply, answers.invalidToken('revoked'), 'revoked')
    if (route.scopes !== undefined && !scopesAllow(route.scopes, auth.scopes)) {
      return refused(request, reply, answers.insufficientScope(route.scopes.needed), 'insufficient scope')
    }
    request.auth = auth
    return true
  }

  async function verifyThenAdmit (request: FastifyRequest, reply: FastifyReply, route: RouteAuth, token: string): Promise<boolean> {
    let entry: Cached
    try {
      entry = await verifyFresh(token, route.issuers)
    } catch (err) {
      if (err instanceof KeysUnavailable) return refused(request, reply, answers.unavailable(err.retryAfterSeconds), 'JWKS unavailable')
      // verifyToken turns every failure into TokenRefused; anything else would be our bug, still never a 500.
      /* c8 ignore next */
      const reason = err instanceof TokenRefused ? err.message : 'invalid token'
      return refused(request, reply, answers.invalidToken(reason), reason)
    }
    return admit(request, reply, route, entry)
  }

  /** The route's check; synchronous unless the token must be verified (a cache hit awaits nothing). */
  function check (request: FastifyRequest, reply: FastifyReply, route: RouteAuth): boolean | Promise<boolean> {
    const credentials = readCredentials(request.raw)
    if (credentials.kind === 'none') return route.optional || refused(request, reply, answers.required, 'no bearer credentials')
    if (credentials.kind === 'malformed') return refused(request, reply, answers.invalidRequest(credentials.reason), credentials.reason)
    const entry = cache?.get(credentials.token)
    if (entry === undefined || !stillGood(entry) || (route.issuers !== undefined && !route.issuers.has(entry.auth.issuer))) {
      return verifyThenAdmit(request, reply, route, credentials.token)
    }
    return admit(request, reply, route, entry)
  }

  // One symbol per registration: two jwtPlugin scopes never read each other's route decisions.
  const kRoute = Symbol('rampart.jwt.route')
  const unreadLogs = createLogLimiter(LOG_INTERVAL_MS, now)

  /** A route added before this plugin registered: the default, unless it has settings of its own that were never applied. */
  function unseen (request: FastifyRequest, reply: FastifyReply, config: { security?: { jwt?: unknown } }): boolean | Promise<boolean> {
    if (config.security?.jwt === undefined) return check(request, reply, DEFAULT_ROUTE)
    const suppressed = unreadLogs.take()
    if (suppressed >= 0) {
      request.log.error(
        { route: `${request.routeOptions.method} ${request.routeOptions.url}`, suppressed },
        'fastify-rampart: config.security.jwt of this route was never read: jwtPlugin was registered after the route was added, so every request is refused; `await app.register(...)` each fastify-rampart plugin before adding routes'
      )
    }
    send(reply, ROUTE_CONFIG_UNREAD)
    return false
  }

  // Routes naming config.security.jwt in this scope are served: the key checker knows it (lib/route-config.ts).
  declareSecurityKey(fastify, 'jwt')
  fastify.addHook('onRoute', function rampartJwtRoute (routeOptions: RouteOptions) {
    const own = routeSecurityConfig(routeOptions, 'jwt')
    if (own === undefined) return attachToRoute(routeOptions, kRoute, DEFAULT_ROUTE)
    const path = 'config.security.jwt'
    const routeProblems: string[] = []
    if (!RouteConfigCheck.Check(own)) explainRouteConfig(JwtRouteSchema, own, path, routeProblems)
    else if (own !== false) {
      for (const iss of own.issuers ?? []) {
        if (!issuers.has(iss)) routeProblems.push(`${path}.issuers: ${JSON.stringify(iss)} is not one of the plugin's issuers`)
      }
    }
    if (routeProblems.length > 0) throw invalidRouteConfig(routeName(routeOptions), routeProblems)
    if (own === false) return attachToRoute(routeOptions, kRoute, PUBLIC)
    const config = own as Exclude<JwtRouteConfig, false>
    attachToRoute(routeOptions, kRoute, {
      optional: config.optional === true,
      issuers: config.issuers === undefined ? undefined : new Set(config.issuers),
      scopes: scopeRule(config.scopes, config.anyScope),
    } satisfies RouteAuth)
  })

  // The hook runs where the plugin is registered. A CORS plugin registered
  // after it would see preflights (which never carry a token) only after they
  // were refused: say so once, at startup, rather than in the browser.
  const corsBefore = fastify.hasPlugin(CORS_PLUGIN)
  fastify.addHook('onReady', async function rampartJwtOrder (this: FastifyInstance) {
    if (!corsBefore && this.hasPlugin(CORS_PLUGIN)) {
      this.log.warn('fastify-rampart: corsPlugin was registered after jwtPlugin, so CORS preflights get 401 before CORS can answer them; register corsPlugin first (securityPlugin does)')
    }
  })

  // One hook for the whole scope, not one per route seen in onRoute: a route
  // added before this plugin finished registering (an `app.register(jwtPlugin)`
  // that was not awaited) is never seen there, and must not be public for it.
  // Such a route gets the default: a token is required (fail closed); one
  // with settings of its own that were never applied is refused outright.
  // Every route seen in onRoute carries a decision, so none means unseen.
  addStep(fastify, 'rampartJwt', function rampartJwt (request: FastifyRequest, reply: FastifyReply): boolean | Promise<boolean> {
    const config = routeConfigOf(request) as unknown as Record<symbol, RouteAuth | null | undefined>
    const own = config[kRoute]
    if (own === PUBLIC) return true
    if (own !== undefined) return check(request, reply, own)
    // A 404 stays a 404: no route, nothing to protect.
    if (request.is404) return true
    return unseen(request, reply, config as { security?: { jwt?: unknown } })
  })
}

export default fp(fusedPlugin('rampartJwt', jwtPlugin), { fastify: '5.x', name: 'fastify-rampart-jwt' })
