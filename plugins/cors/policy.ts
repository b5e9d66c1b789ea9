import type { CorsOptions } from '../../schemas/cors.js'
import { compileOrigins, matchOrigin, type OriginList, type ParsedOrigin, parseOrigin } from './origins.js'

// One route's CORS settings, resolved at registration or route add into the
// option objects @fastify/cors consumes (its delegator mode), so nothing is
// built per request.

// The plugin hands policies a synchronous view of the user's originMatcher
// (async answers come from its cache, see origin-lookup.ts).
export type ResolvedCors = Required<Omit<CorsOptions, 'originMatcher'>> & { originMatcher?: (origin: string) => boolean }

/** @fastify/cors options, as its delegator expects them. */
export interface WireOptions {
  origin: boolean | string
  credentials: boolean
  methods: string
  allowedHeaders: string
  exposedHeaders: string | null
  maxAge: number
  preflight: boolean
  strictPreflight: boolean
  preflightContinue: boolean
  optionsSuccessStatus: number
}

export interface CorsPolicy {
  origins: OriginList
  originMatcher: ((origin: string) => boolean) | undefined
  reflectAny: boolean
  allowNull: boolean
  privateNetwork: boolean
  methods: Set<string>
  headers: Set<string>
  /** Actual request, origin allowed / refused. */
  allow: WireOptions
  deny: WireOptions
  /** Preflight, allowed. */
  preflight: WireOptions
}

export function resolvePolicy (options: ResolvedCors, path: string, problems: string[]): CorsPolicy {
  const parsed: ParsedOrigin[] = []
  options.origins.forEach((raw, i) => {
    const entry = parseOrigin(raw, `${path}.origins[${i}]`, problems)
    if (entry !== undefined) parsed.push(entry)
  })
  const origins = compileOrigins(parsed)
  if (origins.any && options.credentials && !options.dangerouslyReflectAnyOrigin) {
    problems.push(
      `${path}.origins: "*" with credentials would let every site read your users' data; list the origins, or set dangerouslyReflectAnyOrigin`
    )
  }
  if (options.allowNullOrigin && options.credentials && !options.dangerouslyAllowNullOriginWithCredentials) {
    problems.push(
      `${path}.allowNullOrigin: "null" is sent by sandboxed iframes any site can create; with credentials set dangerouslyAllowNullOriginWithCredentials to mean it`
    )
  }
  const reflectAny = options.dangerouslyReflectAnyOrigin
  // "*" answers "*" (never readable with credentials); reflecting answers the caller's own origin.
  const allowOrigin: boolean | string = origins.any && !reflectAny ? '*' : true
  const methods = options.methods.map((m) => m.toUpperCase())
  const headers = options.allowedHeaders.map((h) => h.toLowerCase())
  const base = {
    credentials: options.credentials,
    methods: methods.join(', '),
    allowedHeaders: headers.join(', '),
    exposedHeaders: options.exposedHeaders.length > 0 ? options.exposedHeaders.join(', ') : null,
    maxAge: options.maxAge,
    strictPreflight: false,
    preflightContinue: false,
    optionsSuccessStatus: 204,
  }
  return {
    origins,
    originMatcher: options.originMatcher,
    reflectAny,
    allowNull: options.allowNullOrigin,
    privateNetwork: options.allowPrivateNetwork,
    methods: new Set(methods),
    headers: new Set(headers),
    allow: { ...base, origin: allowOrigin, preflight: false },
    deny: { ...base, origin: false, preflight: false },
    preflight: { ...base, origin: allowOrigin, preflight: true },
  }
}

/** Whether this Origin header value may read responses under `policy`. */
export function originAllowed (policy: CorsPolicy, origin: string): boolean {
  if (origin === 'null') return policy.allowNull
  if (policy.reflectAny || policy.origins.any || matchOrigin(policy.origins, origin)) return true
  if (policy.originMatcher === undefined) return false
  // The user's matcher sees attacker-chosen input; if it throws, the origin is simply not allowed (never a 500).
  try {
    return policy.originMatcher(origin) === true
  } catch {
    return false
  }
}

/**
 * A preflight passes only if the origin is allowed, the method is listed and
 * every requested header is listed (case-insensitive); @fastify/cors lists
 * the allowed values but never compares them with the request.
 */
export function preflightAllowed (
  policy: CorsPolicy,
  origin: string,
  method: string,
  requestHeaders: string | undefined,
  privateNetwork: boolean
): boolean {
  if (!originAllowed(policy, origin)) return false
  // Methods are case-sensitive (RFC 9110 §9.1); browsers upper-case only the six
  // standard ones (Fetch "normalize a method"), so `patch` is not `PATCH`.
  if (!policy.methods.has(method)) return false
  if (privateNetwork && !policy.privateNetwork) return false
  if (requestHeaders !== undefined && requestHeaders.trim() !== '') {
    for (const name of requestHeaders.split(',')) {
      if (!policy.headers.has(name.trim().toLowerCase())) return false
    }
  }
  return true
}
