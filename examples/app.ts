import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { hostsFromEnv, securityPlugin } from '../index.js'

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

  return app
}
