import type { CorsOptions } from '../../schemas/cors.js'
import { compileOrigins, matchOrigin, type OriginList, type ParsedOrigin, parseOrigin } from './origins.js'

// One route's CORS settings, resolved at registration or route add into the
// header values the plugin writes, so nothing is built per request.

// The plugin hands policies a synchronous view of the user's originMatcher
// (async answers come from its cache, see origin-lookup.ts).
export type ResolvedCors = Required<Omit<CorsOptions, 'originMatcher'>> & { originMatcher?: (origin: string) => boolean }

export interface CorsPolicy {
  origins: OriginList
  originMatcher: ((origin: string) => boolean) | undefined
  reflectAny: boolean
  allowNull: boolean
  privateNetwork: boolean
  methods: Set<string>
  headers: Set<string>
  /** Access-Control-Allow-Origin for an allowed origin: `*`, or undefined for the request's own origin. */
  allowOrigin: string | undefined
  credentials: boolean
  /** Access-Control-Expose-Headers, or undefined for none. */
  exposedHeaders: string | undefined
  /** What an allowed preflight adds: Allow-Methods, Allow-Headers (written even when empty, as @fastify/cors does), Max-Age. */
  allowMethods: string
  allowHeaders: string
  maxAge: string
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
  const methods = options.methods.map((m) => m.toUpperCase())
  const headers = options.allowedHeaders.map((h) => h.toLowerCase())
  return {
    origins,
    originMatcher: options.originMatcher,
    reflectAny,
    allowNull: options.allowNullOrigin,
    privateNetwork: options.allowPrivateNetwork,
    methods: new Set(methods),
    headers: new Set(headers),
    // "*" answers "*" (never readable with credentials); reflecting answers the caller's own origin.
    allowOrigin: origins.any && !reflectAny ? '*' : undefined,
    credentials: options.credentials,
    exposedHeaders: options.exposedHeaders.length > 0 ? options.exposedHeaders.join(', ') : undefined,
    allowMethods: methods.join(', '),
    allowHeaders: headers.join(', '),
    maxAge: String(options.maxAge),
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
