import t from 'tap'
import { buildDemo } from '../examples/app.js'
import { API_DEFAULTS } from './helpers.js'

t.test('the demo serves an HTML page whose inline script carries the CSP nonce', async (t) => {
  const app = await buildDemo({ logger: false })
  t.teardown(() => app.close())
  const res = await app.inject('/')
  const nonces = [...res.body.matchAll(/nonce="([^"]+)"/g)].map((m) => m[1])
  t.equal(nonces.length, 2)
  t.equal(nonces[0], nonces[1])
  t.match(res.headers['content-security-policy'], `script-src 'self' 'nonce-${nonces[0]}'`)
  t.match(res.headers['content-security-policy'], `style-src 'self' 'nonce-${nonces[0]}'`)
  t.match(res.headers['content-security-policy'], "img-src 'self' data:")
})

t.test('the demo API routes show the per-route overrides', async (t) => {
  const app = await buildDemo({ logger: false })
  t.teardown(() => app.close())
  const items = await app.inject('/api/items')
  t.equal(items.headers['cache-control'], 'no-store')
  t.equal(items.headers['content-security-policy'], API_DEFAULTS['content-security-policy'])
  t.equal((await app.inject('/api/public/catalog')).headers['cache-control'], 'public, max-age=300')
  const health = await app.inject('/health')
  t.same(health.json(), { status: 'ok' })
  t.equal(health.headers['x-frame-options'], undefined)
})
