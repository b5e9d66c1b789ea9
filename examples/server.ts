import { signWebhook } from '../index.js'
import { buildDemo, DEMO_WEBHOOK_SECRET, demoTokenOf } from './app.js'
import { addOidcLogin, startMtlsListener } from './optional.js'

const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.PORT ?? 3000)

const app = await buildDemo()
const oidc = await addOidcLogin(app)
await app.listen({ host, port })
const mtls = await startMtlsListener(host)

// Orchestrators send SIGTERM, a terminal sends SIGINT: stop accepting
// connections, let requests in flight finish, then exit. A second signal
// (the default handler, once ours has run) ends the process at once, and
// a close that hangs is cut off after 10 s.
const CLOSE_TIMEOUT_MS = 10_000
async function shutdown (signal: NodeJS.Signals): Promise<void> {
  app.log.info({ signal }, 'fastify-rampart demo: closing, finishing requests in flight')
  const timer = setTimeout(() => {
    app.log.error('fastify-rampart demo: did not close within 10 s; exiting')
    process.exit(1)
  }, CLOSE_TIMEOUT_MS)
  timer.unref()
  try {
    await Promise.all([app.close(), mtls?.close()])
    app.log.info('fastify-rampart demo: closed')
  } catch (err) {
    app.log.error({ err }, 'fastify-rampart demo: close failed')
    process.exitCode = 1
  }
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    shutdown(signal).catch(() => process.exit(1))
  })
}

const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
// A delivery signed now (valid for 5 minutes), to show the webhook route and its replay protection.
const hookBody = JSON.stringify({ type: 'demo.ping' })
const signed = Object.entries(signWebhook({ scheme: 'standard', secret: DEMO_WEBHOOK_SECRET, body: hookBody }))
  .map(([name, value]) => `-H '${name}: ${value}'`)
  .join(' ')
console.log(`
fastify-rampart demo on ${base}  (rate limit store: ${process.env.REDIS_URL ? 'Redis' : 'memory'})

  GET  /                     HTML page with a per-request CSP nonce
  GET  /api/items            JSON API: strict API headers, Cache-Control: no-store, 100 requests/min
  GET  /api/public/catalog   route override: Cache-Control: public, max-age=300
  GET  /health               exempt from the Host check and the rate limit
  POST /login                5 attempts per 15 min, shared with POST /login/reset (group "auth")
  GET  /api/me               bearer token required (scope "profile"); the token is printed below
  POST /hooks/demo           a Standard Webhooks delivery, verified on the raw bytes, processed once
${oidc ? '  GET  /auth/login?returnTo=/   log in with your identity provider (OIDC_ISSUER)\n' : ''}${mtls ? `  mTLS listener on port ${process.env.MTLS_PORT ?? 8443}: GET /internal/whoami, GET /internal/payments (client certificate required)\n` : ''}
Try:
  curl -si ${base}/api/items
  curl -si ${base}/ | sed -n '1,/^\\r$/p'
  curl -si ${base}/api/items -H 'Host: evil.example'                 # 400, untrusted host
  curl -si ${base}/api/items -H 'Origin: http://localhost:5173'      # CORS allowed
  curl -si -X OPTIONS ${base}/api/items -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: GET'   # 403
  for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code} ' -X POST ${base}/login -H 'content-type: application/json' -d '{}'; done; echo   # 401 x5, then 429
  curl -si ${base}/health -H 'Host: 10.0.0.7'
  curl -si ${base}/api/me                                            # 401, WWW-Authenticate: Bearer
  curl -si ${base}/api/me -H 'Authorization: Bearer ${demoTokenOf(app)}'
  curl -si -X POST ${base}/hooks/demo -H 'content-type: application/json' ${signed} -d '${hookBody}'   # 200; again: {"duplicate":true}
`)
