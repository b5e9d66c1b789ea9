import Fastify from 'fastify'
import t from 'tap'
import { headersPlugin, rateLimitPlugin, securityPlugin } from '../../index.js'
import { captureLogs, makeApp } from '../helpers.js'

// The very first fastify-rampart `register` not awaited: routes added
// before it are seen by no route-add or ready() check. A route whose
// config.security asks for something is refused on every request rather
// than served as if protected (an unsigned webhook reaching its handler).

const UNAPPLIED = {
  statusCode: 500,
  code: 'FST_RAMPART_INVALID_ROUTE_CONFIG',
  error: 'Internal Server Error',
  message: "This route's fastify-rampart settings were never applied",
}

t.test('a webhook route added before an un-awaited securityPlugin is refused, with one logged error', async (t) => {
  const { stream, lines } = captureLogs()
  const app = Fastify({ logger: { level: 'error', stream } })
  t.teardown(() => app.close())
  app.register(securityPlugin, { rateLimit: false }) // not awaited
  let called = 0
  app.post('/hooks/github', { config: { security: { webhook: { scheme: 'github', secrets: ['s3cret-s3cret-s3cret'] } } } }, async () => {
    called++
    return { ok: true }
  })
  app.get('/open', async () => ({ ok: true }))
  app.get('/off', { config: { security: { webhook: false, rateLimit: undefined } } }, async () => ({ ok: true }))
  await app.ready()
  for (let i = 0; i < 2; i++) {
    const res = await app.inject({ method: 'POST', url: '/hooks/github', payload: { forged: true } })
    t.equal(res.statusCode, 500)
    t.same(res.json(), UNAPPLIED)
    t.equal(res.headers['x-content-type-options'], 'nosniff', 'the refusal still carries the header set')
  }
  t.equal(called, 0, 'the handler never ran')
  t.equal((await app.inject('/open')).statusCode, 200, 'a route that asks for nothing is served')
  t.equal((await app.inject('/off')).statusCode, 200, 'false under every key asks for nothing')
  t.equal((await app.inject('/missing')).statusCode, 404, 'a 404 stays a 404')
  const errors = lines.filter((l) => l.code === 'FST_RAMPART_INVALID_ROUTE_CONFIG')
  t.equal(errors.length, 1, 'one line per interval, not one per request')
  t.match(errors[0], { route: 'POST /hooks/github', msg: /await app\.register/ })
})

t.test('a rate-limited route added before an un-awaited rateLimitPlugin is refused', async (t) => {
  const app = makeApp(t)
  app.register(rateLimitPlugin, { limit: 100 }) // not awaited
  app.get('/login', { config: { security: { rateLimit: { limit: 1, window: '1m' } } } }, async () => 'ok')
  app.get('/odd', { config: { security: 'everything' as never } }, async () => 'ok')
  await app.ready()
  t.same((await app.inject('/login')).json(), UNAPPLIED)
  t.same((await app.inject('/odd')).json(), UNAPPLIED, 'a container that is not an object asks for something unknown: refused')
})

t.test('routes added after the plugin, and child scopes under a guarded parent, are untouched', async (t) => {
  const app = makeApp(t)
  await app.register(headersPlugin)
  await app.register(rateLimitPlugin, { limit: 100 })
  await app.register(async (child) => {
    // Its guard is the parent's: one per scope tree.
    await child.register(rateLimitPlugin, { limit: 50 })
    child.get('/child', { config: { security: { rateLimit: { limit: 5, window: '1m' } } } }, async () => 'ok')
  })
  app.get('/root', { config: { security: { headers: { frameOptions: 'SAMEORIGIN' } } } }, async () => 'ok')
  const child = await app.inject('/child')
  t.equal(child.statusCode, 200)
  t.equal(child.headers['x-ratelimit-limit'], '5')
  const root = await app.inject('/root')
  t.equal(root.statusCode, 200)
  t.equal(root.headers['x-frame-options'], 'SAMEORIGIN')
})
