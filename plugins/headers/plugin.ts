import { randomBytes } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { isPlainObject, mergeOver } from '../../lib/copy.js'
import { invalidOptions, invalidRouteConfig } from '../../lib/errors.js'
import { kindOf, withoutDefaults, withoutRegisterKeys } from '../../lib/options.js'
import { attachToRoute, routeName, routeSecurityConfig } from '../../lib/route-config.js'
import { type HeadersOptions, HeadersOptionsSchema } from '../../schemas/headers.js'
import type { HeaderSet } from './header-set.js'
import { resolveHeaderSet } from './resolve.js'

const kNonce = Symbol('rampart.cspNonce')
const OFF = null

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
  // `request.routeOptions` builds an object on every read; skip it until
  // some route actually has its own header config.
  let anyRouteSet = false

  fastify.addHook('onRoute', function rampartHeadersRoute (routeOptions: RouteOptions) {
    const own = routeSecurityConfig(routeOptions, 'headers')
    if (own === undefined) return
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
    anyRouteSet = true
  })

  if (!fastify.hasReplyDecorator('cspNonce')) {
    fastify.decorateReply('cspNonce', {
      getter (this: FastifyReply & { [kNonce]?: string }) {
        this[kNonce] ??= newNonce()
        return this[kNonce]
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
      if (set !== OFF) writeHeaders(set, request, reply)
      done(null, payload)
    }
  )
}

/** The whole per-request cost: pick a precomputed list, write what the route has not set. */
function writeHeaders (set: HeaderSet, request: FastifyRequest, reply: FastifyReply): void {
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
      if (!reply.hasHeader(name)) reply.header(name, parts.join(reply.cspNonce))
    }
  }
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

export default fp(headersPlugin, { fastify: '5.x', name: 'fastify-rampart-headers' })

declare module 'fastify' {
  interface FastifyReply {
    /** This response's CSP nonce (128-bit, base64), created on first read; present in the policy when `contentSecurityPolicy.nonce` is on. */
    readonly cspNonce: string
  }
}
