import t, { type Test } from 'tap'
import { buildDemo, DEMO_WEBHOOK_SECRET, demoTokenOf } from '../examples/app.js'
import { auditHeaders, signWebhook } from '../index.js'
import { API_DEFAULTS } from './helpers.js'

async function demo (t: Test) {
  const app = await buildDemo({ fastify: { logger: false }, allowedHosts: ['localhost', '127.0.0.1'], redisUrl: undefined })
  t.teardown(() => app.close())
  return app
}

t.test('the demo page carries its CSP nonce and passes the audit', async (t) => {
  const app = await demo(t)
  const res = await app.inject('/')
  const nonces = [...res.body.matchAll(/nonce="([^"]+)"/g)].map((m) => m[1])
  t.equal(nonces.length, 2)
  t.equal(nonces[0], nonces[1])
  t.match(res.headers['content-security-policy'], `script-src 'self' 'nonce-${nonces[0]}'`)
  t.match(res.headers['content-security-policy'], `style-src 'self' 'nonce-${nonces[0]}'`)
  t.match(res.headers['content-security-policy'], "img-src 'self' data:")
  t.same(auditHeaders(res), [])
})

t.test('the demo API routes show the per-route overrides', async (t) => {
  const app = await demo(t)
  const items = await app.inject('/api/items')
  t.equal(items.headers['cache-control'], 'no-store')
  t.equal(items.headers['content-security-policy'], API_DEFAULTS['content-security-policy'])
  t.equal(items.headers['x-ratelimit-limit'], '100')
  t.same(auditHeaders(items), [])
  const catalog = await app.inject('/api/public/catalog')
  t.equal(catalog.headers['cache-control'], 'public, max-age=300')
  t.equal(catalog.headers['cross-origin-resource-policy'], 'cross-origin')
  const health = await app.inject({ url: '/health', headers: { host: '10.0.0.7' } })
  t.same(health.json(), { status: 'ok' })
  t.equal(health.headers['x-ratelimit-limit'], undefined, 'never limited')
  t.equal((await app.inject({ url: '/api/items', headers: { host: 'evil.example' } })).statusCode, 400)
})

t.test('the demo login shares a strict bucket with reset', async (t) => {
  const app = await demo(t)
  const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object })
  t.equal((await post('/login', { user: 'demo', password: 'demo' })).statusCode, 200)
  t.equal((await post('/login', { user: 'x' })).statusCode, 401)
  t.equal((await post('/login/reset', {})).statusCode, 200)
  t.equal((await post('/login', {})).statusCode, 401)
  t.equal((await post('/login', {})).statusCode, 401)
  const limited = await post('/login/reset', {})
  t.equal(limited.statusCode, 429)
  t.equal(limited.headers['ratelimit-policy'], '"auth";q=5;w=900')
})

t.test('the demo answers CORS for its second origin only', async (t) => {
  const app = await demo(t)
  const ok = await app.inject({ url: '/api/items', headers: { origin: 'http://localhost:5173' } })
  t.equal(ok.headers['access-control-allow-origin'], 'http://localhost:5173')
  t.equal(ok.headers['access-control-allow-credentials'], 'true')
  const refused = await app.inject({ method: 'OPTIONS', url: '/api/items', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } })
  t.equal(refused.statusCode, 403)
})

t.test('the demo defaults: local hosts in development, memory store, or Redis from REDIS_URL', async (t) => {
  const saved = { ...process.env }
  t.teardown(() => {
    process.env = saved
  })
  delete process.env.REDIS_URL
  delete process.env.ALLOWED_HOSTS
  process.env.NODE_ENV = 'development'
  const app = await buildDemo({ fastify: { logger: false } })
  t.teardown(() => app.close())
  t.equal((await app.inject({ url: '/api/items', headers: { host: 'localhost:3000' } })).statusCode, 200)
  t.equal((await app.inject({ url: '/api/items', headers: { host: 'example.com' } })).statusCode, 400)

  // Nothing listens on port 1: the demo starts anyway and the memory fallback limits.
  process.env.REDIS_URL = 'redis://127.0.0.1:1'
  const withRedis = await buildDemo({ fastify: { logger: false }, allowedHosts: ['localhost'] })
  t.teardown(() => withRedis.close())
  t.equal((await withRedis.inject('/api/items')).headers['x-ratelimit-limit'], '100')
})

t.test('the demo API has a bearer-token route and a signed webhook', async (t) => {
  const app = await demo(t)
  const anonymous = await app.inject('/api/me')
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.headers['www-authenticate'], 'Bearer realm="api"')
  const me = await app.inject({ url: '/api/me', headers: { authorization: `Bearer ${demoTokenOf(app)}` } })
  t.equal(me.statusCode, 200)
  t.match(me.json(), { subject: 'demo-user', issuer: 'https://demo.local/', scopes: ['profile'] })
  t.equal((await app.inject('/api/items')).statusCode, 200, 'the other routes stay public')
  const body = JSON.stringify({ type: 'demo.ping' })
  const headers = { 'content-type': 'application/json', ...signWebhook({ scheme: 'standard', secret: DEMO_WEBHOOK_SECRET, body }) }
  const first = await app.inject({ method: 'POST', url: '/hooks/demo', payload: body, headers })
  t.equal(first.statusCode, 200)
  t.same(first.json().received, { type: 'demo.ping' })
  const again = await app.inject({ method: 'POST', url: '/hooks/demo', payload: body, headers })
  t.same(again.json(), { duplicate: true })
  t.equal((await app.inject({ method: 'POST', url: '/hooks/demo', payload: body, headers: { 'content-type': 'application/json' } })).statusCode, 401)
})
