import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { Compile } from 'typebox/compile'
import { invalidOptions, invalidRouteConfig, UntrustedHostError } from '../../lib/errors.js'
import { createLogLimiter } from '../../lib/log-limiter.js'
import { collectOptions, withoutRegisterKeys } from '../../lib/options.js'
import { attachToRoute, explainRouteConfig, routeName, routeSecurityConfig } from '../../lib/route-config.js'
import { addStep } from '../../lib/steps.js'
import { trustProxyOf } from '../../lib/trust-proxy.js'
import {
  type TrustedHostOptions,
  TrustedHostOptionsSchema,
  TrustedHostRouteSchema,
} from '../../schemas/trusted-host.js'
import { absoluteFormAuthority, type ParsedHost, parseHost } from './host.js'
import { type HostMatcher, listsExactly, matchHost } from './matcher.js'
import { resolveMatcher } from './resolve.js'
import { routeConfigOf } from '../../lib/route-context.js'

type Resolved = Required<TrustedHostOptions> & {
  redirect?: { www: boolean; https: boolean; exemptPaths: string[] }
}

const RouteConfigCheck = Compile(TrustedHostRouteSchema)
const LOG_INTERVAL_MS = 10_000
/** Accepted Host values remembered per allowlist and scheme. */
const ACCEPTED_MAX = 1024

// The body Fastify's default error handler would send, written directly so
// an app's own error handler cannot turn a refused host into a 500 or leak
// anything; the onSend hooks (security headers) still run.
const REFUSAL = JSON.stringify({
  statusCode: 400,
  code: 'FST_RAMPART_UNTRUSTED_HOST',
  error: 'Bad Request',
  message: new UntrustedHostError().message,
})

type Reason = 'missing' | 'malformed' | 'duplicate' | 'mismatch' | 'not allowed'

/** Picks the authority to check, or a reason to refuse before parsing. */
function authorityOf (request: FastifyRequest, useForwardedHost: boolean): string | Reason {
  const raw = request.raw
  const headers = raw.headers
  const rawHeaders = raw.rawHeaders
  let hosts = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++
  }
  // Node keeps only the first of several Host headers; a proxy may have used another.
  if (hosts > 1) return 'duplicate'
  const authority = headers[':authority'] as string | undefined
  const host = headers.host
  if (authority !== undefined && host !== undefined && authority !== host) return 'mismatch'
  // With trustProxy, Fastify's request.host is the last X-Forwarded-Host
  // entry when the peer is trusted, and the Host header otherwise.
  const value = useForwardedHost ? request.host : (authority ?? host)
  if (value === undefined || value === '') return 'missing'
  return value
}

function effectivePort (parsed: ParsedHost, secure: boolean): number {
  return parsed.port ?? (secure ? 443 : 80)
}

async function trustedHostPlugin (fastify: FastifyInstance, options: TrustedHostOptions): Promise<void> {
  const problems: string[] = []
  const resolved = collectOptions<Resolved>(TrustedHostOptionsSchema, withoutRegisterKeys(options), 'trustedHost', problems)
  let matcher: HostMatcher | undefined
  if (problems.length === 0) {
    matcher = resolveMatcher(resolved.allowedHosts, 'trustedHost.allowedHosts', problems)
    if (resolved.useForwardedHost && !trustProxyOf(fastify)) {
      problems.push(
        "trustedHost.useForwardedHost: needs Fastify's trustProxy set to your proxies (e.g. trustProxy: ['10.0.0.0/8']); otherwise any client could choose its X-Forwarded-Host"
      )
    }
  }
  if (problems.length > 0 || matcher === undefined) throw invalidOptions(problems)
  const defaultMatcher = matcher
  const useForwardedHost = resolved.useForwardedHost
  const redirect = resolved.redirect
  const exempt = new Set(redirect?.exemptPaths ?? [])
  const logLimiter = createLogLimiter(LOG_INTERVAL_MS)

  const kRouteMatcher = Symbol('rampart.trustedHost.route')
  let anyRouteMatcher = false

  fastify.addHook('onRoute', function rampartTrustedHostRoute (routeOptions: RouteOptions) {
    const own = routeSecurityConfig(routeOptions, 'trustedHost')
    if (own === undefined) return
    const path = 'config.security.trustedHost'
    const routeProblems: string[] = []
    let routeMatcher: HostMatcher | null = null
    if (!RouteConfigCheck.Check(own)) {
      explainRouteConfig(TrustedHostRouteSchema, own, path, routeProblems)
    } else if (own !== false) {
      routeMatcher = resolveMatcher(own.allowedHosts, `${path}.allowedHosts`, routeProblems)
    }
    if (routeProblems.length > 0) throw invalidRouteConfig(routeName(routeOptions), routeProblems)
    attachToRoute(routeOptions, kRouteMatcher, routeMatcher)
    anyRouteMatcher = true
  })

  /** Sends the 400; false, for the step: the request is answered. */
  function refuse (request: FastifyRequest, reply: FastifyReply, reason: Reason, host?: string): false {
    const suppressed = logLimiter.take()
    if (suppressed >= 0) {
      // Only our own reason words and an already-validated host name reach the log: no raw header text.
      request.log.warn(
        { code: 'FST_RAMPART_UNTRUSTED_HOST', reason, host, suppressed },
        'fastify-rampart: refused a request with an untrusted Host'
      )
    }
    reply.code(400).type('application/json; charset=utf-8').send(REFUSAL)
    return false
  }

  function wwwTarget (parsed: ParsedHost): boolean {
    return redirect?.www === true && !parsed.ip && !parsed.hostname.startsWith('www.') && listsExactly(defaultMatcher, `www.${parsed.hostname}`)
  }

  function redirectTo (request: FastifyRequest, reply: FastifyReply, parsed: ParsedHost, secure: boolean): boolean {
    if (redirect === undefined) return false
    const url = request.raw.url as string
    const query = url.indexOf('?')
    const path = query === -1 ? url : url.slice(0, query)
    if (exempt.has(path)) return false
    const toHttps = redirect.https && !secure
    const toWww = wwwTarget(parsed)
    if (!toHttps && !toWww) return false
    const hostname = toWww ? `www.${parsed.hostname}` : parsed.hostname
    // Moving to https drops an explicit http port: it cannot serve TLS too.
    const port = parsed.port === undefined || toHttps ? '' : `:${parsed.port}`
    // An absolute-form target already matched the host; keep its path and query.
    const target = url.startsWith('/') ? url : ((u) => u.pathname + u.search)(new URL(url))
    reply.redirect(`${toHttps || secure ? 'https' : 'http'}://${hostname}${port}${target}`, 308)
    return true
  }

  // Most requests carry one of a few Host values: the ones already accepted
  // skip the parse and the match (a refused value is never remembered).
  // Only without redirects, whose answer also depends on the path.
  const accepted = new WeakMap<HostMatcher, [plain: Set<string>, secure: Set<string>]>()
  // The plugin-wide list's, without the WeakMap lookup on every request.
  const defaultAccepted: [plain: Set<string>, secure: Set<string>] = [new Set(), new Set()]
  function acceptedOf (routeMatcher: HostMatcher, secure: boolean): Set<string> {
    let sets = routeMatcher === defaultMatcher ? defaultAccepted : accepted.get(routeMatcher)
    if (sets === undefined) accepted.set(routeMatcher, (sets = [new Set(), new Set()]))
    return sets[secure ? 1 : 0]
  }

  function check (request: FastifyRequest, reply: FastifyReply, routeMatcher: HostMatcher): boolean {
    const value = authorityOf(request, useForwardedHost)
    if (value === 'missing' || value === 'duplicate' || value === 'mismatch') return refuse(request, reply, value)
    const url = request.raw.url as string
    const secure = request.protocol === 'https'
    // Origin-form targets (`/path`) name no host of their own.
    const cache = redirect === undefined && url.charCodeAt(0) === 47 ? acceptedOf(routeMatcher, secure) : undefined
    if (cache !== undefined && cache.has(value)) return true
    const parsed = parseHost(value)
    if (parsed === undefined) return refuse(request, reply, 'malformed')
    const target = absoluteFormAuthority(url)
    if (target !== undefined) {
      const other = parseHost(target)
      if (
        other === undefined ||
        other.hostname !== parsed.hostname ||
        effectivePort(other, secure) !== effectivePort(parsed, secure)
      ) {
        return refuse(request, reply, 'mismatch', parsed.hostname)
      }
    }
    if (!matchHost(routeMatcher, parsed.hostname, effectivePort(parsed, secure))) {
      // As Starlette's www_redirect: an apex that is not listed itself still
      // goes to its www. host when that one is (the target is always listed).
      if (routeMatcher === defaultMatcher && wwwTarget(parsed) && redirectTo(request, reply, parsed, secure)) return false
      return refuse(request, reply, 'not allowed', parsed.hostname)
    }
    if (redirectTo(request, reply, parsed, secure)) return false
    if (cache !== undefined) {
      // Bounded: a wildcard entry allows endless names.
      if (cache.size >= ACCEPTED_MAX) cache.clear()
      cache.add(value)
    }
    return true
  }

  addStep(fastify, 'rampartTrustedHost', function rampartTrustedHost (request: FastifyRequest, reply: FastifyReply): boolean {
    let routeMatcher: HostMatcher | null | undefined = defaultMatcher
    if (anyRouteMatcher) {
      const own = (routeConfigOf(request) as unknown as Record<symbol, HostMatcher | null | undefined>)[kRouteMatcher]
      if (own !== undefined) routeMatcher = own
    }
    if (routeMatcher === null) return true
    return check(request, reply, routeMatcher)
  })
}

export default fp(trustedHostPlugin, { fastify: '5.x', name: 'fastify-rampart-trusted-host' })
