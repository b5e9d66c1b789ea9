import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { securityPlugin } from '../index.js'

/** The demo app, built apart from `listen` so tests can drive it with inject. */
export async function buildDemo (options: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: 'info' }, ...options })

  await app.register(securityPlugin, {
    headers: {
      contentSecurityPolicy: {
        nonce: true,
        directives: { imgSrc: ["'self'", 'data:'] },
      },
    },
  })

  // An HTML page: gets the document CSP with a fresh nonce, Permissions-Policy and friends.
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

  // A JSON API route: the strict API set with Cache-Control: no-store.
  app.get('/api/items', async () => [
    { id: 1, name: 'shield' },
    { id: 2, name: 'moat' },
  ])

  // A public, cacheable route: the route's own Cache-Control wins.
  app.get(
    '/api/public/catalog',
    { config: { security: { headers: { cacheControl: 'public, max-age=300' } } } },
    async () => ({ version: 1, items: 2 })
  )

  // A health check for load balancers: no security headers at all.
  app.get('/health', { config: { security: { headers: false } } }, async () => ({ status: 'ok' }))

  return app
}
