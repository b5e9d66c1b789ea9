import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { hostsFromEnv, jwtPlugin, securityPlugin } from '../index.js'

/** The demo's Standard Webhooks secret (whsec_ + base64); set DEMO_WEBHOOK_SECRET to use your own. */
export const DEMO_WEBHOOK_SECRET = process.env.DEMO_WEBHOOK_SECRET ?? `whsec_${Buffer.from('fastify-rampart demo secret!').toString('base64')}`

const tokens = new WeakMap<FastifyInstance, string>()
/** A one-hour access token for the demo's /api/me, signed with the key made at startup. */
export function demoTokenOf (app: FastifyInstance): string {
  return tokens.get(app) as string
}

export interface DemoOptions {
  /** Hosts the demo answers to. Default: ALLOWED_HOSTS, or local names in development. */
  allowedHosts?: string[]
  /** Origins allowed to call the API from a browser. Default: a dev server on localhost:5173. */
  corsOrigins?: string[]
  /** A redis:// URL for a rate limit shared by several instances. Default: REDIS_URL, else memory. */
  redisUrl?: string | undefined
  /** Fastify server options (logger, https, trustProxy, ...). */
  fastify?: FastifyServerOptions & { https?: { key: string; cert: string } }
}

/** The demo app, built apart from `listen` so tests can drive it with inject or over TLS. */
export async function buildDemo (options: DemoOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: 'info' }, ...options.fastify } as FastifyServerOptions) as unknown as FastifyInstance
  const redisUrl = 'redisUrl' in options ? options.redisUrl : process.env.REDIS_URL

  await app.register(securityPlugin, {
    trustedHost: {
      allowedHosts: options.allowedHosts ?? hostsFromEnv({ development: ['localhost', '127.0.0.1', '[::1]'] }),
    },
    cors: {
      origins: options.corsOrigins ?? ['http://localhost:5173'],
      credentials: true,
      methods: ['GET', 'POST'],
      allowedHeaders: ['content-type'],
    },
    rateLimit: {
      limit: 100,
      window: '1m',
      ...(redisUrl ? { store: { redis: redisUrl } } : {}),
    },
    headers: {
      contentSecurityPolicy: { nonce: true, directives: { imgSrc: ["'self'", 'data:'] } },
    },
  })

  // An HTML page: the document CSP with a fresh nonce per response, Permissions-Policy and friends.
  app.get('/', async (_request, reply) => {
    const nonce = reply.cspNonce
    return reply.type('text/html; charset=utf-8').send(`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>fastify-rampart demo</title>
  <style nonce="${nonce}">body { font-family: system-ui, sans-serif; margin: 2rem; }</style>
</head>
<body>
  <h1>fastify-rampart demo</h1>
  <p id="out">Loading…</p>
  <script nonce="${nonce}">
    fetch('/api/items').then((r) => r.json()).then((items) => {
      document.getElementById('out').textContent = 'API says: ' + items.map((i) => i.name).join(', ')
    })
  </script>
</body>
</html>`)
  })

  // JSON API: the strict API header set, Cache-Control: no-store, the plugin-wide limit.
  app.get('/api/items', async () => [
    { id: 1, name: 'shield' },
    { id: 2, name: 'moat' },
  ])

  // A public, cacheable route: the route's own Cache-Control, readable from any site's scripts.
  app.get(
    '/api/public/catalog',
    { config: { security: { headers: { cacheControl: 'public, max-age=300', crossOriginResourcePolicy: 'cross-origin' } } } },
    async () => ({ version: 1, items: 2 })
  )

  // A health check for load balancers: any Host (they probe by IP), never limited.
  app.get(
    '/health',
    { config: { security: { trustedHost: false, rateLimit: false, headers: { cacheControl: 'no-cache' } } } },
    async () => ({ status: 'ok' })
  )

  // Login and password reset share one strict bucket: 5 attempts per 15 minutes per client.
  const auth = { config: { security: { rateLimit: { limit: 5, window: '15m', group: 'auth' } } } }
  app.post('/login', auth, async (request, reply) => {
    const body = request.body as { user?: string; password?: string } | undefined
    if (body?.user === 'demo' && body.password === 'demo') return { ok: true }
    return reply.code(401).send({ ok: false })
  })
  app.post('/login/reset', auth, async () => ({ sent: true }))

  // A signed inbound webhook (Standard Webhooks): verified on the raw bytes, each delivery processed once.
  app.post(
    '/hooks/demo',
    { config: { security: { webhook: { scheme: 'standard', secrets: [DEMO_WEBHOOK_SECRET] } } } },
    async (request) => ({ received: request.body, delivery: request.webhook })
  )

  // Bearer tokens in their own scope, so the routes above stay public. A local key set made at
  // startup stands in for your identity provider's JWKS URL.
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const jwk = { ...(await exportJWK(publicKey)), kid: 'demo', alg: 'ES256' }
  await app.register(async (api) => {
    await api.register(jwtPlugin, { issuers: [{ issuer: 'https://demo.local/', audience: 'demo-api', algorithms: ['ES256'], keys: { keys: [jwk] } }] })
    api.get('/api/me', { config: { security: { jwt: { scopes: ['profile'] } } } }, async (request) => request.auth)
  })
  tokens.set(app, await new SignJWT({ scope: 'profile' })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'demo' })
    .setIssuer('https://demo.local/').setAudience('demo-api').setSubject('demo-user')
    .setIssuedAt().setExpirationTime('1h').setJti('demo-token')
    .sign(privateKey))

  return app
}
