// Options in, ready settings and buckets out: everything the rate limiter
// decides at registration (and, for routes, at route add), apart from the
// Fastify glue in plugin.ts. Every problem is pushed onto `problems`, so
// securityPlugin can list them together with the other plugins'.

import { jwtPrincipal } from '../jwt/plugin.js'
import type { FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import { Compile } from 'typebox/compile'
import { type AddressMatcher, compileAddresses } from '../../lib/client-ip.js'
import { collectOptions } from '../../lib/options.js'
import { explainRouteConfig } from '../../lib/route-config.js'
import {
  type RateLimitErrorContext,
  type RateLimitOptions,
  RateLimitOptionsSchema,
  type RateLimitRouteConfig,
  RateLimitRouteSchema,
} from '../../schemas/rate-limit.js'
import { type Bucket, capacityOf, makeBucket, strictProblems, withCost } from './buckets.js'
import type { RateLimitStore } from './store.js'

export type HookName = 'onRequest' | 'preParsing' | 'preValidation' | 'preHandler'
type RequestFn<T> = (request: FastifyRequest) => T

type Parsed = Required<Pick<RateLimitOptions, 'limit' | 'window' | 'name' | 'ipv6Prefix' | 'headers' | 'maxKeys' | 'onStoreError' | 'acknowledgeTrustAllProxies' | 'strict' | 'global' | 'errorContentType' | 'preflightCost'>> &
  Omit<RateLimitOptions, 'store'> & {
    store?: { redis?: Redis | string; custom?: RateLimitStore; prefix: string; timeoutMs: number }
  }

/** How one route is limited. */
export interface RouteLimit {
  bucket: Bucket
  /** Tier name → bucket, for routes on the plugin-wide limit. */
  tiers: Map<string, Bucket> | undefined
  /** Where the principal bucket (or, without a principal, the whole check) runs. */
  hook: HookName
}

export interface Settings {
  /** What a route without its own config gets: null when `global: false`. */
  defaultRoute: RouteLimit | null
  /** The plugin-wide bucket and tiers, whatever `global` says (route config `{}` or `{ cost }` uses them). */
  baseRoute: RouteLimit
  /** Buckets by name for fastify.rateLimit.consume: `buckets`, the plugin-wide one, and route groups as they are added. */
  named: Map<string, Bucket>
  allowList: AddressMatcher | undefined
  allowListFn: RequestFn<boolean> | undefined
  principal: RequestFn<string | undefined> | undefined
  principalHookReason: string | undefined
  tier: RequestFn<string | undefined> | undefined
  keyGenerator: RequestFn<string> | undefined
  onExceeding: ((request: FastifyRequest, key: string) => void) | undefined
  onExceeded: ((request: FastifyRequest, key: string) => void) | undefined
  errorResponse: ((request: FastifyRequest, context: RateLimitErrorContext) => unknown) | undefined
  errorContentType: string
  ipv6Prefix: number
  draft: boolean
  legacy: boolean
  preflightCost: number
  maxKeys: number
  onStoreError: 'memory' | 'open' | 'closed'
  store: { redis?: Redis | string; custom?: RateLimitStore; prefix: string; timeoutMs: number } | undefined
  now: (() => number) | undefined
  /** The plugin's own choice of hook for the deferred check. */
  hook: HookName
  anyStrict: boolean
  /** For route config: the plugin-wide limit, window and burst as given. */
  limits: { limit: number; window: number | string; burst: number | undefined }
  /** resolveRouteLimit bound to these settings. */
  resolveRoute(own: unknown, route: string, groups: Map<string, string>, problems: string[]): RouteLimit | null | undefined
}

const TRUST_ALL =
  "rateLimit: Fastify's trustProxy: true believes every X-Forwarded-For hop, so any client can pick its own IP and escape the limit; set trustProxy to your proxies (e.g. ['10.0.0.0/8'] or a hop count), or set acknowledgeTrustAllProxies if a proxy you control always overwrites the header"

/** A principal read in onRequest runs before any auth hook registered after the limiter: almost always a mistake. */
function principalInOnRequest (path: string): string {
  return `${path}: a principal checked in onRequest runs before your authentication hooks, so every request looks unauthenticated (or the principal is unverified); use the default hook ('preHandler'), or say why it is safe with ${path === 'rateLimit.hook' ? 'principalHookReason' : 'hookReason'}`
}

export function resolveRateLimit (input: unknown, trustProxyAll: boolean, problems: string[]): Settings | undefined {
  const before = problems.length
  const o = collectOptions<Parsed>(RateLimitOptionsSchema, input, 'rateLimit', problems)
  if (problems.length > before) return undefined

  if (trustProxyAll && !o.acknowledgeTrustAllProxies) problems.push(TRUST_ALL)
  strictProblems(o, 'rateLimit', problems)
  const hook: HookName = o.hook ?? (o.principal === undefined ? 'onRequest' : 'preHandler')
  if (o.principal !== undefined && hook === 'onRequest' && o.principalHookReason === undefined) problems.push(principalInOnRequest('rateLimit.hook'))

  const base = makeBucket(o.name, o, 1)
  const tiers = new Map<string, Bucket>()
  for (const [tier, limits] of Object.entries(o.tiers ?? {})) {
    strictProblems(limits, `rateLimit.tiers.${tier}`, problems)
    tiers.set(tier, makeBucket(`${o.name}.${tier}`, limits, 1))
  }
  const named = new Map<string, Bucket>([[o.name, base]])
  for (const [name, limits] of Object.entries(o.buckets ?? {})) {
    strictProblems(limits, `rateLimit.buckets.${name}`, problems)
    if (named.has(name)) problems.push(`rateLimit.buckets.${name}: is already the plugin-wide bucket's name`)
    named.set(name, makeBucket(name, limits, 1))
  }

  let allowList: AddressMatcher | undefined
  let allowListFn: RequestFn<boolean> | undefined
  if (Array.isArray(o.allowList)) allowList = compileAddresses(o.allowList, 'rateLimit.allowList', problems)
  else allowListFn = o.allowList

  const store = o.store
  if (store !== undefined && (store.redis === undefined) === (store.custom === undefined)) {
    problems.push('rateLimit.store: set exactly one of redis (a client or a redis:// URL) or custom (a RateLimitStore)')
  } else if (store?.custom !== undefined && typeof store.custom.consume !== 'function') {
    problems.push('rateLimit.store.custom: must be an object with a consume(key, params, cost) method')
  }
  const anyStrict = base.strict || [...tiers.values(), ...named.values()].some((b) => b.strict)
  if (anyStrict && store?.custom !== undefined) {
    problems.push('rateLimit.store.custom: strict buckets need the memory or Redis store (a custom store decides GCRA only)')
  }

  const baseRoute: RouteLimit = { bucket: base, tiers: tiers.size > 0 ? tiers : undefined, hook }
  const settings: Settings = {
    defaultRoute: o.global ? baseRoute : null,
    baseRoute,
    named,
    allowList,
    allowListFn,
    // 'jwt': jwtPlugin's verified issuer + subject, read in the principal hook (after verification).
    principal: o.principal === 'jwt' ? jwtPrincipal : o.principal,
    principalHookReason: o.principalHookReason,
    tier: o.tier,
    keyGenerator: o.keyGenerator,
    onExceeding: o.onExceeding,
    onExceeded: o.onExceeded,
    errorResponse: o.errorResponse,
    errorContentType: o.errorContentType,
    ipv6Prefix: o.ipv6Prefix,
    draft: o.headers === 'both' || o.headers === 'draft',
    legacy: o.headers === 'both' || o.headers === 'legacy',
    preflightCost: o.preflightCost,
    maxKeys: o.maxKeys,
    onStoreError: o.onStoreError,
    store,
    now: o.now,
    hook,
    anyStrict,
    limits: { limit: o.limit, window: o.window, burst: o.burst },
    resolveRoute: (own, route, groups, routeProblems) => resolveRouteLimit(own, settings, route, groups, routeProblems),
  }
  return settings
}

const RouteConfigCheck = Compile(RateLimitRouteSchema)

/**
 * One route's `config.security.rateLimit` (given: the caller skips routes
 * without one) → its limit (null: not limited; undefined: the config was
 * refused, see `problems`). `groups` remembers each group's shape so
 * routes sharing a bucket agree on it.
 */
export function resolveRouteLimit (
  own: unknown,
  settings: Settings,
  route: string,
  groups: Map<string, string>,
  problems: string[]
): RouteLimit | null | undefined {
  const path = 'config.security.rateLimit'
  if (!RouteConfigCheck.Check(own)) {
    explainRouteConfig(RateLimitRouteSchema, own, path, problems)
    return undefined
  }
  if (own === false) return null
  const config = own as Exclude<RateLimitRouteConfig, false>
  const hook = config.hook ?? settings.hook
  if (settings.principal !== undefined && hook === 'onRequest' && config.hookReason === undefined && settings.principalHookReason === undefined) {
    problems.push(principalInOnRequest(`${path}.hook`))
  }
  const cost = config.cost ?? 1
  const ownLimits = config.limit !== undefined || config.window !== undefined || config.burst !== undefined || config.strict !== undefined
  if (!ownLimits && config.group === undefined) {
    // Only a cost (or a hook): the plugin-wide bucket and its tiers, charged `cost`.
    const base = settings.baseRoute
    const all = [base.bucket, ...(base.tiers?.values() ?? [])]
    // A tier with a larger burst may fit a cost the base bucket cannot: refuse only what no bucket could ever pass.
    if (!all.some((b) => capacityOf(b) >= cost)) {
      const largest = Math.max(...all.map(capacityOf))
      problems.push(
        all.length === 1
          ? `${path}.cost: must not exceed the ${base.bucket.strict ? 'limit' : 'burst'} (${largest}), or no request could ever pass`
          : `${path}.cost: exceeds the burst of every bucket this route can use (the largest is ${largest}), so no request could ever pass`
      )
    }
    return {
      bucket: withCost(base.bucket, cost),
      tiers: base.tiers && new Map([...base.tiers].map(([k, b]) => [k, withCost(b, cost)])),
      hook,
    }
  }
  const name = config.group ?? route
  const limits = {
    limit: config.limit ?? settings.limits.limit,
    window: config.window ?? settings.limits.window,
    burst: config.burst ?? (config.limit === undefined ? settings.limits.burst : undefined),
    strict: config.strict,
  }
  strictProblems({ ...limits, burst: config.burst }, path, problems)
  const bucket = makeBucket(name, limits, cost)
  if (cost > capacityOf(bucket)) {
    problems.push(`${path}.cost: must not exceed the ${bucket.strict ? 'limit' : 'burst'} (${capacityOf(bucket)}), or no request could ever pass`)
  }
  if (config.group !== undefined) {
    const shape = `${bucket.params.limit}/${bucket.params.windowMs}/${bucket.params.burst}/${bucket.strict}`
    const seen = groups.get(config.group)
    if (seen !== undefined && seen !== shape) {
      problems.push(`${path}.group: group "${config.group}" is already used with another limit, window or burst (or strict)`)
    }
    groups.set(config.group, shape)
  }
  return { bucket, tiers: undefined, hook }
}
