import t from 'tap'
import { corsPlugin, securityPlugin } from '../../index.js'
import { captureLogs, caught, makeApp } from '../helpers.js'

const APP = 'https://app.example.com'
const pre = (url: string, method = 'GET', origin = APP) => ({ method: 'OPTIONS' as const, url, headers: { origin, 'access-control-request-method': method } })

t.test('a preflight for a path with no route is refused 403, not 204', async (t) => {
  const app = makeApp(t)
  await app.register(corsPlugin, { origins: [APP], methods: ['GET', 'HEAD', 'POST'] })
  app.get('/items/:id', async () => 'x')
  t.equal((await app.inject(pre('/items/7'))).statusCode, 204)
  t.equal((await app.inject(pre('/items/7', 'HEAD'))).statusCode, 204, 'the HEAD route Fastify adds counts')
  for (const [url, method] of [['/nowhere', 'GET'], ['/items', 'GET'], ['/items/7', 'POST']]) {
    const res = await app.inject(pre(url, method))
    t.equal(res.statusCode, 403, `${method} ${url}`)
    t.same(res.json(), { statusCode: 403, code: 'FST_RAMPART_CORS_PREFLIGHT_REFUSED', error: 'Forbidden', message: 'CORS preflight refused' })
    t.equal(res.headers.vary, 'Origin')
    t.equal(res.headers['access-control-allow-origin'], undefined)
  }
})

t.test('refused preflights are logged once per 10 s, with a reason and without a stack', async (t) => {
  const real = Date.now
  let now = 5_000_000
  Date.now = () => now
  t.teardown(() => { Date.now = real })
  const { stream, lines } = captureLogs()
  const app = makeApp(t, { logger: { stream, level: 'info' } })
  await app.register(corsPlugin, { origins: [APP] })
  app.get('/items', async () => 'x')
  app.get('/closed', { config: { security: { cors: false } } }, async () => 'x')
  await app.inject(pre('/items', 'GET', 'https://evil.example'))
  for (let i = 0; i < 3; i++) await app.inject(pre('/nowhere'))
  now += 10_000
  await app.inject(pre('/closed'))
  const refusals = lines.filter((l) => l.msg === 'fastify-rampart: refused a CORS preflight')
  t.same(refusals.map(({ level, code, reason, suppressed }) => ({ level, code, reason, suppressed })), [
    { level: 40, code: 'FST_RAMPART_CORS_PREFLIGHT_REFUSED', reason: 'not allowed', suppressed: 0 },
    { level: 40, code: 'FST_RAMPART_CORS_PREFLIGHT_REFUSED', reason: 'cors off for the route', suppressed: 3 },
  ])
  t.same(lines.filter((l) => 'err' in l || JSON.stringify(l).includes('evil.example')), [], 'no error object, stack or Origin text logged')
})

t.test('cacheControl on allowed preflight answers replaces the headers plugin no-store', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false, cors: { origins: [APP], cacheControl: 'public, max-age=600' } })
  app.get('/items', async () => 'x')
  app.get('/short', { config: { security: { cors: { cacheControl: 'max-age=60' } } } }, async () => 'x')
  app.get('/none', { config: { security: { cors: { cacheControl: false } } } }, async () => 'x')
  const allowed = await app.inject(pre('/items'))
  t.equal(allowed.statusCode, 204)
  t.equal(allowed.headers['cache-control'], 'public, max-age=600')
  t.equal(allowed.headers.vary, 'Origin')
  t.equal((await app.inject(pre('/short'))).headers['cache-control'], 'max-age=60', 'route config')
  t.equal((await app.inject(pre('/none'))).headers['cache-control'], 'no-store', 'false: the headers plugin decides')
  t.equal((await app.inject(pre('/items', 'GET', 'https://evil.example'))).headers['cache-control'], 'no-store', 'refusals are not cacheable')
  t.equal((await app.inject({ url: '/items', headers: { origin: APP } })).headers['cache-control'], 'no-store', 'actual requests unchanged')

  const plain = makeApp(t)
  await plain.register(securityPlugin, { rateLimit: false, cors: { origins: [APP] } })
  plain.get('/items', async () => 'x')
  t.equal((await plain.inject(pre('/items'))).headers['cache-control'], 'no-store', 'default false: no-store as before')
  const err = await caught(() => makeApp(t).register(corsPlugin, { origins: [APP], cacheControl: 'max-age=1\r\nx: y' }).ready())
  t.same(err.problems, ['cors.cacheControl: must be false or a printable ASCII header value (got string)'])
})

t.test("a route's exposedHeaders keeps the rate-limit headers securityPlugin exposes", async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: { limit: 10, headers: 'legacy' }, cors: { origins: [APP], exposedHeaders: ['X-Request-Id'] } })
  app.get('/items', async () => 'x')
  app.get('/report', { config: { security: { cors: { exposedHeaders: ['X-Report-Id', 'retry-after'] } } } }, async () => 'x')
  t.equal(
    (await app.inject({ url: '/items', headers: { origin: APP } })).headers['access-control-expose-headers'],
    'X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After'
  )
  t.equal(
    (await app.inject({ url: '/report', headers: { origin: APP } })).headers['access-control-expose-headers'],
    'X-Report-Id, retry-after, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset',
    'the route list replaces X-Request-Id, the rate-limit names stay, none twice'
  )
})

t.test('routes that differ only by constraints share one preflight answer only when their CORS agrees', async (t) => {
  const app = makeApp(t)
  await app.register(corsPlugin, { origins: [APP] })
  app.get('/v', { constraints: { version: '1.0.0' } }, async () => 1)
  app.get('/v', { constraints: { version: '2.0.0' } }, async () => 2)
  const partner = { config: { security: { cors: { origins: ['https://partner.example'] } } } }
  app.get('/p/:a', { ...partner, constraints: { version: '1.0.0' } }, async () => 1)
  app.get('/p/:a', { ...partner, constraints: { version: '2.0.0' } }, async () => 2)
  app.head('/h2', { config: { security: { cors: false } } }, async () => 'declared HEAD first')
  app.get('/h2', async () => 'Fastify adds no HEAD: one is declared')
  app.get('/h3', { exposeHeadRoute: false }, async () => 'no auto HEAD')
  t.equal((await app.inject(pre('/v'))).statusCode, 204, 'same (plugin) policy')
  t.equal((await app.inject(pre('/h2', 'HEAD'))).statusCode, 403, 'the declared HEAD route (CORS off) decides')
  t.equal((await app.inject(pre('/h3', 'HEAD'))).statusCode, 403, 'exposeHeadRoute: false, no HEAD route')
  t.equal((await app.inject(pre('/p/1', 'GET', 'https://partner.example'))).statusCode, 403, 'two route policies, even if equal in content: refused')
})

t.test('a route for the method is not enough: the method must be in methods', async (t) => {
  const app = makeApp(t)
  await app.register(corsPlugin, { origins: [APP], methods: ['GET'] })
  app.delete('/items', async () => 'x')
  app.get('/items', async () => 'x')
  t.equal((await app.inject(pre('/items', 'DELETE'))).statusCode, 403)
  t.equal((await app.inject(pre('/items', 'GET'))).statusCode, 204)
})
