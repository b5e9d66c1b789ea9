import { randomBytes } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { isPlainObject, mergeOver } from '../../lib/copy.js'
import { CspNonceOffError, invalidOptions, invalidRouteConfig } from '../../lib/errors.js'
import { kindOf, withoutDefaults, withoutRegisterKeys } from '../../lib/options.js'
import { attachToRoute, routeName, routeSecurityConfig } from '../../lib/route-config.js'
import { type HeadersOptions, HeadersOptionsSchema } from '../../schemas/headers.js'
import { createLogLimiter, type LogLimiter } from '../../lib/log-limiter.js'
import { frameAncestorsDirective, renderDynamicCsp } from './frame-ancestors.js'
import type { FrameAncestorsHook, HeaderSet } from './header-set.js'
import { resolveHeaderSet } from './resolve.js'

const kNonce = Symbol('rampart.cspNonce')
// Shared by every registration: "some header set on this route puts the nonce in its policy".
const kNonceOn = Symbol('rampart.cspNonce.on')
const OFF = null
const LOG_INTERVAL_MS = 10_000

type NoncedReply = FastifyReply & { [kNonce]?: string }

/** The response's nonce, made on first use; unlike the `reply.cspNonce` getter it never throws (hooks run on every route). */
function nonceOf (reply: NoncedReply): string {
  reply[kNonce] ??= newNonce()
  return reply[kNonce]
}

// Route config is checked once per route; the compiled check is the fast
// path and the schema walk only runs to explain a failure.
const RouteConfigCheck = Compile(Type.Union([Type.Literal(false), withoutDefaults(HeadersOptionsSchema)]))

/** 128 bits from the CSPRNG, as CSP3 asks of a nonce. */
function newNonce (): string {
  return randomBytes(16).toString('base64')
}

const HTML = /^\s*(?:text\/html|application\/xhtml\+xml)\b/i

function isHtml (reply: FastifyReply): boolean {
  const type = reply.getHeader('content-type')
  return typeof type === 'string' && HTML.test(type)
}

async function headersPlugin (fastify: FastifyInstance, options: HeadersOptions): Promise<void> {
  const input = withoutRegisterKeys(options)
  const problems: string[] = []
  const defaultSet = resolveHeaderSet(input, 'headers', problems)
  if (problems.length > 0 || defaultSet === undefined) throw invalidOptions(problems)

  // One symbol per registration, so two scopes with different options never read each other's route sets.
  const kRouteSet = Symbol('rampart.headers.route')
  const logLimiter = createLogLimiter(LOG_INTERVAL_MS)
  // `request.routeOptions` builds an object on every read; skip it until
  // some route actually has its own header config.
  let anyRouteSet = false

  fastify.addHook('onRoute', function rampartHeadersRoute (routeOptions: RouteOptions) {
    const own = routeSecurityConfig(routeOptions, 'headers')
    if (own === undefined) {
      if (defaultSet.nonce) attachToRoute(routeOptions, kNonceOn, true)
      return
    }
    let set: HeaderSet | null = OFF
    if (own !== false) {
      const path = 'config.security.headers'
      if (!isPlainObject(own)) {
        throw invalidRouteConfig(routeName(routeOptions), [
          `${path}: must be false or an object (got ${kindOf(own)})`,
        ])
      }
      const routeProblems: string[] = []
      const merged = RouteConfigCheck.Check(own) ? mergeOver(input, own) : own
      const built = resolveHeaderSet(merged, path, routeProblems)
      if (routeProblems.length > 0 || built === undefined) {
        throw invalidRouteConfig(routeName(routeOptions), routeProblems)
      }
      set = built
    }
    attachToRoute(routeOptions, kRouteSet, set)
    if (set !== OFF && set.nonce) attachToRoute(routeOptions, kNonceOn, true)
    anyRouteSet = true
  })

  if (!fastify.hasReplyDecorator('cspNonce')) {
    fastify.decorateReply('cspNonce', {
      getter (this: FastifyReply & { [kNonce]?: string }) {
        if (this[kNonce] !== undefined) return this[kNonce]
        // A nonce that is in no policy would make the page's scripts look
        // allowed while the browser blocks them (or no CSP guards them at all).
        if ((this.request.routeOptions.config as unknown as Record<symbol, unknown>)[kNonceOn] !== true) {
          throw new CspNonceOffError()
        }
        return nonceOf(this)
      },
    })
  }

  fastify.addHook(
    'onSend',
    function rampartSecurityHeaders (request: FastifyRequest, reply: FastifyReply, payload: unknown, done) {
      const own = anyRouteSet
        ? (request.routeOptions.config as unknown as Record<symbol, HeaderSet | null | undefined>)[kRouteSet]
        : undefined
      const set = own === undefined ? defaultSet : own
      if (set !== OFF) writeHeaders(set, request, reply, logLimiter)
      done(null, payload)
    }
  )
}

/** The whole per-request cost: pick a precomputed list, write what the route has not set. */
function writeHeaders (set: HeaderSet, request: FastifyRequest, reply: FastifyReply, logLimiter: LogLimiter): void {
  const html = set.profile === 'html' || (set.profile === 'auto' && isHtml(reply))
  const secure = set.checkSecure && request.protocol === 'https'
  const list = html ? (secure ? set.htmlSecure : set.html) : secure ? set.apiSecure : set.api
  for (let i = 0; i < list.length; i++) {
    const [name, value] = list[i]
    if (!reply.hasHeader(name)) reply.header(name, value)
  }
  if (html) {
    for (let i = 0; i < set.nonced.length; i++) {
      const [name, parts] = set.nonced[i]
      if (!reply.hasHeader(name)) reply.header(name, parts.join(nonceOf(reply)))
    }
  }
  if (set.frameAncestors !== undefined) writeFrameAncestors(set.frameAncestors, html, request, reply, logLimiter)
  if (
    set.cacheControl !== undefined &&
    !reply.hasHeader('cache-control') &&
    !reply.raw.hasHeader('cache-control')
  ) {
    reply.header('cache-control', set.cacheControl)
  }
  for (let i = 0; i < set.remove.length; i++) {
    // removeHeader `delete`s from Fastify's header object, which is slow; most responses have nothing to remove.
    if (reply.hasHeader(set.remove[i])) reply.removeHeader(set.remove[i])
  }
}

/** Only on routes with `frameAncestorsFor`: asks the hook, checks its answer, writes the CSP headers it shapes. */
function writeFrameAncestors (
  hook: FrameAncestorsHook,
  html: boolean,
  request: FastifyRequest,
  reply: FastifyReply,
  logLimiter: LogLimiter
): void {
  const list = html ? hook.html : hook.api
  let answer: unknown
  try {
    answer = hook.pick(request, reply)
  } catch {
    answer = null
  }
  for (let i = 0; i < list.length; i++) {
    const csp = list[i]
    if (reply.hasHeader(csp.name)) continue
    let directive = frameAncestorsDirective(answer, csp.fallback)
    if (directive === false) {
      // Fail closed: nobody may frame the page rather than whoever the bad answer named.
      directive = "frame-ancestors 'none'"
      const suppressed = logLimiter.take()
      if (suppressed >= 0) {
        request.log.warn(
          { suppressed },
          "fastify-rampart: contentSecurityPolicy.frameAncestorsFor threw or answered something other than valid CSP sources; sent frame-ancestors 'none'"
        )
      }
    }
    reply.header(csp.name, renderDynamicCsp(csp, () => nonceOf(reply), directive))
  }
}

export default fp(headersPlugin, { fastify: '5.x', name: 'fastify-rampart-headers' })

declare module 'fastify' {
  interface FastifyReply {
    /**
     * This response's CSP nonce (128-bit, base64), created on first read and
     * sent in the route's policy. Throws `FST_RAMPART_CSP_NONCE_OFF` on a
     * route whose `contentSecurityPolicy.nonce` is off.
     */
    readonly cspNonce: string
  }
}
