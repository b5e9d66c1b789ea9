import { randomBytes } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { isPlainObject, mergeOver } from '../../lib/copy.js'
import { CspNonceOffError, invalidOptions, invalidRouteConfig } from '../../lib/errors.js'
import { kindOf, withoutDefaults, withoutRegisterKeys } from '../../lib/options.js'
import { attachToRoute, routeName, routeSecurityConfig } from '../../lib/route-config.js'
import { addStep, FIRST } from '../../lib/steps.js'
import { getHeader, hasHeader, rawHasHeaders } from '../../lib/reply-headers.js'
import { type HeadersOptions, HeadersOptionsSchema } from '../../schemas/headers.js'
import { createLogLimiter, type LogLimiter } from '../../lib/log-limiter.js'
import { frameAncestorsDirective, renderDynamicCsp } from './frame-ancestors.js'
import type { FrameAncestorsHook, HeaderSet, Pair } from './header-set.js'
import { resolveHeaderSet } from './resolve.js'
import { routeConfigOf } from '../../lib/route-context.js'

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

// Most responses of an app share a handful of Content-Type strings: remember the last answer.
let lastType: unknown
let lastHtml = false

function isHtml (reply: FastifyReply): boolean {
  const type = getHeader(reply, 'content-type')
  if (type === lastType) return lastHtml
  lastType = type
  lastHtml = typeof type === 'string' && HTML.test(type)
  return lastHtml
}

async function headersPlugin (fastify: FastifyInstance, options: HeadersOptions): Promise<void> {
  const input = withoutRegisterKeys(options)
  const problems: string[] = []
  const resolved = resolveHeaderSet(input, 'headers', problems)
  if (problems.length > 0 || resolved === undefined) throw invalidOptions(problems)
  const defaultSet: HeaderSet = resolved

  // One symbol per registration, so two scopes with different options never read each other's route sets.
  const kRouteSet = Symbol('rampart.headers.route')
  // The list the onRequest step wrote, so onSend knows what is ours.
  const kWritten = Symbol('rampart.headers.written')
  type Written = FastifyRequest & { [kWritten]?: readonly Pair[] }
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

  function setOf (request: FastifyRequest): HeaderSet | null {
    if (!anyRouteSet) return defaultSet
    const own = (routeConfigOf(request) as unknown as Record<symbol, HeaderSet | null | undefined>)[kRouteSet]
    return own === undefined ? defaultSet : own
  }

  // The header list goes out before the handler runs: a header the handler
  // sets simply replaces ours, and onSend is left with corrections (HTML
  // responses, raw headers, removals) instead of a probe per header.
  addStep(fastify, 'rampartSecurityHeadersEarly', function rampartSecurityHeadersEarly (request: FastifyRequest, reply: FastifyReply): boolean {
    const set = setOf(request)
    if (set === OFF) return true
    if (set.checkSecure && request.protocol === 'https') {
      set.writeEarlySecure(reply)
      ;(request as Written)[kWritten] = set.earlySecure
    } else {
      set.writeEarly(reply)
      ;(request as Written)[kWritten] = set.early
    }
    return true
  }, FIRST)

  fastify.addHook(
    'onSend',
    function rampartSecurityHeaders (request: FastifyRequest, reply: FastifyReply, payload: unknown, done) {
      const written = (request as Written)[kWritten]
      const set = setOf(request)
      if (set !== OFF) finishHeaders(set, written, request, reply, logLimiter)
      done(null, payload)
    }
  )
}

const NONE: readonly string[] = []

/** A header Node holds (`reply.raw.setHeader`) wins over ours, as a probe before writing let it before. */
function yieldToRaw (reply: FastifyReply, list: readonly Pair[]): void {
  if (!rawHasHeaders(reply)) return
  const raw = reply.raw
  for (let i = 0; i < list.length; i++) {
    const name = list[i][0]
    const value = raw.getHeader(name)
    if (value === undefined) continue
    // reply.removeHeader removes Node's copy too: put it back.
    reply.removeHeader(name)
    raw.setHeader(name, value)
  }
}

/**
 * Takes back what onRequest wrote and nobody replaced, before the full write
 * for another list; returns the names the handler removed (its choice, kept).
 */
function takeBack (reply: FastifyReply, list: readonly Pair[]): string[] {
  const removed: string[] = []
  for (let i = 0; i < list.length; i++) {
    const [name, value] = list[i]
    const current = reply.getHeader(name)
    if (current === undefined) removed.push(name)
    if (current !== value) continue
    const raw = reply.raw.getHeader(name)
    reply.removeHeader(name)
    if (raw !== undefined) reply.raw.setHeader(name, raw)
  }
  return removed
}

/**
 * onSend: when onRequest wrote the right list, only the extras remain;
 * otherwise (an HTML response, or an answer sent before our onRequest
 * step ran) the full write, probing each name so the route's own win.
 */
function finishHeaders (set: HeaderSet, written: readonly Pair[] | undefined, request: FastifyRequest, reply: FastifyReply, logLimiter: LogLimiter): void {
  const html = set.profile === 'html' || (set.profile === 'auto' && isHtml(reply))
  if (written !== undefined && (written === set.early || written === set.earlySecure) && html === (set.profile === 'html')) {
    yieldToRaw(reply, written)
    writeExtras(set, html, request, reply, logLimiter)
    return
  }
  writeHeaders(set, html, written === undefined ? NONE : takeBack(reply, written), request, reply, logLimiter)
}

/** The whole write, as before onRequest wrote anything: pick a precomputed list, write what the route has not set. */
function writeHeaders (set: HeaderSet, html: boolean, removed: readonly string[], request: FastifyRequest, reply: FastifyReply, logLimiter: LogLimiter): void {
  const secure = set.checkSecure && request.protocol === 'https'
  const list = html ? (secure ? set.htmlSecure : set.html) : secure ? set.apiSecure : set.api
  for (let i = 0; i < list.length; i++) {
    const [name, value] = list[i]
    if (!reply.hasHeader(name) && !removed.includes(name)) reply.header(name, value)
  }
  if (
    set.cacheControl !== undefined &&
    !reply.hasHeader('cache-control') &&
    !removed.includes('cache-control')
  ) {
    reply.header('cache-control', set.cacheControl)
  }
  writeExtras(set, html, request, reply, logLimiter)
}

/** Nonced and per-request CSP, and the removals: never written early. */
function writeExtras (set: HeaderSet, html: boolean, request: FastifyRequest, reply: FastifyReply, logLimiter: LogLimiter): void {
  if (html) {
    for (let i = 0; i < set.nonced.length; i++) {
      const [name, parts] = set.nonced[i]
      if (!reply.hasHeader(name)) reply.header(name, parts.join(nonceOf(reply)))
    }
  }
  if (set.frameAncestors !== undefined) writeFrameAncestors(set.frameAncestors, html, request, reply, logLimiter)
  for (let i = 0; i < set.remove.length; i++) {
    // removeHeader `delete`s from Fastify's header object, which is slow; most responses have nothing to remove.
    if (hasHeader(reply, set.remove[i])) reply.removeHeader(set.remove[i])
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
