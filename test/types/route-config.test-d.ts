// Checked by `tsc --noEmit` (npm test): each @ts-expect-error line must fail
// to compile, so a loosened type breaks the build.
import Fastify, { type FastifyContextConfig, type RouteShorthandOptions } from 'fastify'
import { type CspDirectives, type HeadersOptions, headersPlugin, securityPlugin, trustedHostPlugin, corsPlugin, rateLimitPlugin, cspReportRoute } from '../../index.js'
import { authorizeAny, authorizeID, mtlsPlugin, type SpiffeId } from '../../index.js'

const app = Fastify()
await app.register(securityPlugin, { headers: { frameOptions: 'SAMEORIGIN', hsts: { maxAge: 600 } } })
await app.register(headersPlugin, { referrerPolicy: ['no-referrer', 'strict-origin-when-cross-origin'] })

// @ts-expect-error unknown plugin key
await app.register(securityPlugin, { header: {} })
// @ts-expect-error ALLOW-FROM is not a frameOptions value
await app.register(securityPlugin, { headers: { frameOptions: 'ALLOW-FROM https://a.example' } })
// @ts-expect-error maxAge is a number
await app.register(headersPlugin, { hsts: { maxAge: '1y' } })

app.get('/ok', { config: { security: { headers: false } } }, async () => 'ok')
app.get(
  '/ok2',
  { config: { security: { headers: { cacheControl: 'public, max-age=60' } } } },
  async () => 'ok'
)

// Fastify infers a route's config type from an inline literal, which
// widens it; a typed options object (or explicit generics) gets the full check.
export const good: RouteShorthandOptions = { config: { security: { headers: { frameOptions: 'DENY' } } } }
// @ts-expect-error unknown key under config.security
export const typo: RouteShorthandOptions = { config: { security: { header: false } } }
// @ts-expect-error headers: true is not allowed (false or an object)
export const wrongType: FastifyContextConfig = { security: { headers: true } }
export const wrongDirective: CspDirectives = {
  // @ts-expect-error unknown CSP directive
  scriptSource: [],
}
app.get<{ Reply: string }>(
  '/bad',
  {
    // @ts-expect-error explicit generics check inline config too
    config: { security: { headers: { hsts: { maxAge: 'long' } } } },
  },
  async () => 'no'
)

app.get('/nonce', async (_req, reply) => {
  const nonce: string = reply.cspNonce
  // @ts-expect-error cspNonce is read-only
  reply.cspNonce = 'x'
  return nonce
})

await app.register(securityPlugin, { trustedHost: { allowedHosts: ['example.com'], redirect: { https: true } } })
// @ts-expect-error allowedHosts is required
await app.register(trustedHostPlugin, { useForwardedHost: true })
export const exempt: FastifyContextConfig = { security: { trustedHost: false } }
export const ownHosts: FastifyContextConfig = { security: { trustedHost: { allowedHosts: ['admin.example.com'] } } }
// @ts-expect-error allowedHosts is a list
export const hostsAsString: FastifyContextConfig = { security: { trustedHost: { allowedHosts: 'a.example' } } }

await app.register(securityPlugin, { cors: { origins: ['https://app.example.com'], credentials: true } })
await app.register(corsPlugin, { origins: ['*'], originMatcher: (origin: string) => origin.endsWith('.example.net') })
// @ts-expect-error origins are strings, not RegExps
await app.register(corsPlugin, { origins: [/example/] })
export const corsOff: FastifyContextConfig = { security: { cors: false } }
export const corsRoute: FastifyContextConfig = { security: { cors: { methods: ['GET', 'DELETE'], credentials: true } } }
// @ts-expect-error maxAge is a number of seconds
export const corsMaxAge: FastifyContextConfig = { security: { cors: { maxAge: '10m' } } }

await app.register(securityPlugin, { rateLimit: { limit: 5, window: '15m', principal: (request) => request.headers['x-user'] as string | undefined } })
// @ts-expect-error window is ms or a duration string, not a boolean
await app.register(rateLimitPlugin, { window: true })
export const limitOff: FastifyContextConfig = { security: { rateLimit: false } }
export const limitRoute: FastifyContextConfig = { security: { rateLimit: { limit: 5, window: '15m', group: 'auth', cost: 1 } } }
// @ts-expect-error cost is a number
export const limitCost: FastifyContextConfig = { security: { rateLimit: { cost: 'high' } } }
// @ts-expect-error unknown key
export const limitTypo: FastifyContextConfig = { security: { rateLimit: { max: 5 } } }

export const limitHook: FastifyContextConfig = { security: { rateLimit: { hook: 'preHandler' } } }
// @ts-expect-error onSend is too late to refuse a request
export const limitLateHook: FastifyContextConfig = { security: { rateLimit: { hook: 'onSend' } } }

export const typed: HeadersOptions = { permissionsPolicy: { camera: ['self'] } }
// @ts-expect-error unknown Permissions-Policy feature
export const wrongFeature: HeadersOptions = { permissionsPolicy: { camra: [] } }

// webhook
import { signWebhook, type WebhookDelivery, webhookPlugin } from '../../index.js'
await app.register(webhookPlugin, { replay: { store: { redis: 'redis://127.0.0.1:6379' }, ttl: '72h' } })
export const stripeHook: FastifyContextConfig = { security: { webhook: { scheme: 'stripe', secrets: ['whsec_x'] } } }
export const githubHook: FastifyContextConfig = { security: { webhook: { scheme: 'github', secrets: ['s'], replay: false } } }
// @ts-expect-error unknown webhook scheme
export const unknownScheme: FastifyContextConfig = { security: { webhook: { scheme: 'paypal', secrets: ['s'] } } }
// @ts-expect-error secrets is a list
export const secretAsString: FastifyContextConfig = { security: { webhook: { scheme: 'github', secrets: 's' } } }
app.post('/hook', { config: { security: { webhook: { scheme: 'standard', secrets: ['whsec_x'] } } } }, async (request) => {
  const raw: Buffer | undefined = request.rawBody
  const delivery: WebhookDelivery | undefined = request.webhook
  return { length: raw?.length, id: delivery?.id }
})
export const headers: Record<string, string> = signWebhook({ scheme: 'github', secret: 's', body: '{}' })
// @ts-expect-error body is required
signWebhook({ scheme: 'github', secret: 's' })
// jwt
import { jwtPlugin, jwtPrincipal, type JwtAuth } from '../../index.js'
await app.register(jwtPlugin, { issuers: [{ issuer: 'https://auth.example.com/', audience: 'api', jwksUri: 'https://auth.example.com/jwks' }], typ: ['at+jwt'] })
// @ts-expect-error issuers is required
await app.register(jwtPlugin, { typ: false })
export const jwtScopes: FastifyContextConfig = { security: { jwt: { scopes: ['orders:read'], optional: true } } }
export const jwtPublic: FastifyContextConfig = { security: { jwt: false } }
// @ts-expect-error scopes is a list
export const jwtScopeString: FastifyContextConfig = { security: { jwt: { scopes: 'orders:read' } } }
app.get('/me', async (request) => {
  const auth: JwtAuth | null = request.auth
  const principal: string | undefined = jwtPrincipal(request)
  return { subject: auth?.subject, principal }
})
await app.revokeToken('jti', new Date())
await app.revokeSubject('user-1')
// @ts-expect-error revokeToken needs an expiry
await app.revokeToken('jti')
// Per-request frame-ancestors, async originMatcher, preflight cacheControl, the CSP report collector.
export const tenantFrames: FastifyContextConfig = {
  security: { headers: { contentSecurityPolicy: { frameAncestorsFor: (request) => (request.params as { t?: string }).t === 'a' ? ['https://a.example'] : undefined } } },
}
// @ts-expect-error frameAncestorsFor answers a list of sources, not a string
export const tenantFramesString: FastifyContextConfig = { security: { headers: { contentSecurityPolicy: { frameAncestorsFor: () => 'https://a.example' } } } }
await app.register(corsPlugin, { origins: [], originMatcher: async (origin: string) => origin === 'https://t.example', originMatcherTimeout: 500, originMatcherCache: { ttl: 1000 }, cacheControl: 'max-age=600' })
export const routePreflightCache: FastifyContextConfig = { security: { cors: { cacheControl: 'max-age=60' } } }
await cspReportRoute(app, { path: '/csp', bodyLimit: 4096, logInterval: '1s', level: 'info' })
// mtls
await app.register(mtlsPlugin, { authorize: authorizeAny(), trustBundles: { 'example.org': '-----BEGIN CERTIFICATE-----' } })
await app.register(mtlsPlugin, { authorize: (id, chain) => id.memberOf('example.org') && chain.length > 0, files: { cert: 'a', key: 'b', bundle: 'c' }, watch: true })
// @ts-expect-error authorize is required
await app.register(mtlsPlugin, { trustBundles: {} })
export const mtlsOff: FastifyContextConfig = { security: { mtls: false } }
export const mtlsOwn: FastifyContextConfig = { security: { mtls: { authorize: authorizeID('spiffe://example.org/a') } } }
// @ts-expect-error mtls: true is not allowed (false or { authorize })
export const mtlsOn: FastifyContextConfig = { security: { mtls: true } }
app.get('/whoami', async (request) => {
  const id: SpiffeId | null = request.spiffeId
  return id?.trustDomain
})
// Rate limit: strict buckets, hookReason, the manual-check API and errorResponse are typed.
export const limitStrict: FastifyContextConfig = { security: { rateLimit: { limit: 5, window: '15m', strict: true, hookReason: 'mTLS' } } }
await app.register(rateLimitPlugin, { global: false, buckets: { login: { limit: 5, window: '15m', strict: true } }, errorResponse: (_request, context) => ({ status: context.statusCode }) })
export const consumed: Promise<{ allowed: boolean }> = app.rateLimit.consume({} as never, { bucket: 'login', cost: 1 })
// @ts-expect-error strict is a boolean
export const strictTypo: FastifyContextConfig = { security: { rateLimit: { strict: 'yes' } } }
