import t from 'tap'
import corsPlugin from '../../plugins/cors/plugin.js'
import rateLimitPlugin from '../../plugins/rate-limit/plugin.js'
import jwtPlugin from '../../plugins/jwt/plugin.js'
import securityPlugin from '../../plugins/security.js'
import { captureLogs, caught, makeApp } from '../helpers.js'
import { bearer, fakeClock, localIssuer, makeKey, sign } from './helpers.js'

const clock = fakeClock()
const rsa = await makeKey('RS256')
const options = { issuers: [localIssuer(rsa)], now: clock.now }

t.test('a route added before jwtPlugin finished registering still requires a token', async (t) => {
  const app = makeApp(t)
  app.register(jwtPlugin, options) // not awaited: its onRoute hook does not exist yet
  app.get('/private', async (request) => ({ auth: request.auth?.subject ?? null }))
  await app.ready()
  const anonymous = await app.inject('/private')
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.headers['www-authenticate'], 'Bearer realm="api"')
  const forged = await app.inject({ url: '/private', headers: bearer('a.b.c') })
  t.equal(forged.statusCode, 401)
  const ok = await app.inject({ url: '/private', headers: bearer(await sign(rsa, { clock, claims: { sub: 'u1' } })) })
  t.same([ok.statusCode, ok.json()], [200, { auth: 'u1' }], 'verified, and request.auth set')
  t.equal((await app.inject({ method: 'HEAD', url: '/private' })).statusCode, 401, 'the HEAD route Fastify adds too')
})

t.test('routes of a scope registered before jwtPlugin require a token too', async (t) => {
  const app = makeApp(t)
  app.register(async (child) => {
    child.get('/child', async () => 'ok')
  })
  app.register(jwtPlugin, options)
  await app.ready()
  t.equal((await app.inject('/child')).statusCode, 401)
  t.equal((await app.inject({ url: '/child', headers: bearer(await sign(rsa, { clock })) })).statusCode, 200)
})

t.test('a 404 stays a 404, on an app whose routes were all added before the plugin', async (t) => {
  const app = makeApp(t)
  app.register(jwtPlugin, options)
  app.get('/private', async () => 'ok')
  await app.ready()
  t.equal((await app.inject('/nowhere')).statusCode, 404)
  t.equal((await app.inject({ url: '/nowhere', headers: bearer('a.b.c') })).statusCode, 404, 'a bad token is not looked at')
})

t.test('a route with its own jwt config added before the plugin is refused on every request, with one logged error', async (t) => {
  const logs = captureLogs()
  const app = makeApp(t, { logger: { level: 'error', stream: logs.stream } })
  app.register(jwtPlugin, options)
  app.get('/admin', { config: { security: { jwt: { scopes: ['admin'] } } } }, async () => 'ok')
  app.get('/health', { config: { security: { jwt: false } } }, async () => 'ok')
  app.get('/plain', async () => 'ok')
  // No checker was installed when these routes were added, so ready() cannot name them.
  await app.ready()
  const token = await sign(rsa, { clock, claims: { scope: 'read' } })
  const admin = await app.inject({ url: '/admin', headers: bearer(token) })
  t.equal(admin.statusCode, 500, 'a valid token without the scope the route asks for does not get in')
  t.same(admin.json(), {
    statusCode: 500,
    code: 'FST_RAMPART_INVALID_ROUTE_CONFIG',
    error: 'Internal Server Error',
    message: "This route's fastify-rampart settings were never applied",
  }, 'the suite-wide guard (lib/route-config.ts) answers first')
  t.equal((await app.inject('/admin')).statusCode, 500)
  const health = await app.inject('/health')
  t.equal(health.statusCode, 500, 'false was never applied either: fail closed')
  t.equal(health.json().message, "This route's bearer token settings were never applied", 'jwtPlugin itself refuses what the guard lets by')
  t.equal((await app.inject('/health')).statusCode, 500)
  t.equal((await app.inject('/plain')).statusCode, 401, 'a route without settings gets the default')
  const errors = logs.lines.filter((l) => l.level === 50)
  t.equal(errors.length, 2, 'logged once per interval, not per request: once by the guard, once by jwtPlugin')
  t.same(errors.map((e) => e.route), ['GET /admin', 'GET /health'])
  t.match(errors[1].msg, /config\.security\.jwt of this route was never read.*`await app\.register\(\.\.\.\)`/)
})

t.test('when a suite plugin already checks route keys, such a route is refused when it is added', async (t) => {
  const app = makeApp(t)
  await app.register(rateLimitPlugin, { limit: 100 })
  app.register(jwtPlugin, options)
  const err = await caught(() => app.get('/admin', { config: { security: { jwt: { scopes: ['admin'] } } } }, async () => 'ok'))
  t.equal(err.code, 'FST_RAMPART_INVALID_ROUTE_CONFIG')
  t.match(err.problems?.[0], /^config\.security\.jwt: no jwtPlugin .*`await app\.register\(\.\.\.\)`/)
})

t.test('routes the plugin saw keep their own settings next to ones it did not', async (t) => {
  const app = makeApp(t)
  app.get('/early', async () => 'ok')
  await app.register(jwtPlugin, options)
  app.get('/public', { config: { security: { jwt: false } } }, async () => 'ok')
  app.get('/maybe', { config: { security: { jwt: { optional: true } } } }, async (request) => ({ auth: request.auth }))
  app.get('/late', async () => 'ok')
  await app.ready()
  t.same(
    await Promise.all(['/early', '/public', '/maybe', '/late'].map(async (url) => (await app.inject(url)).statusCode)),
    [401, 200, 200, 401]
  )
})

t.test('under securityPlugin not awaited: the IP bucket still runs before the token check', async (t) => {
  const app = makeApp(t)
  app.register(securityPlugin, { headers: false, rateLimit: { limit: 2, window: '1m', now: clock.now }, jwt: options })
  app.get('/private', async () => 'ok')
  await app.ready()
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) statuses.push((await app.inject({ url: '/private', headers: bearer('a.b.c') })).statusCode)
  t.same(statuses, [401, 401, 429, 429], 'forged tokens stop at the limit, before any verification')
})

t.test('the token check runs where the plugin is registered: corsPlugin after jwtPlugin is warned about at startup', async (t) => {
  const preflight = {
    method: 'OPTIONS' as const,
    url: '/',
    headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
  }
  const cors = { origins: ['https://app.example.com'], allowedHeaders: ['authorization'] }
  const statuses: number[] = []
  const warnings: string[][] = []
  for (const corsFirst of [true, false]) {
    const logs = captureLogs()
    const app = makeApp(t, { logger: { level: 'warn', stream: logs.stream } })
    if (corsFirst) await app.register(corsPlugin, cors)
    await app.register(jwtPlugin, options)
    if (!corsFirst) await app.register(corsPlugin, cors)
    app.get('/', async () => 'ok')
    await app.ready()
    statuses.push((await app.inject(preflight)).statusCode)
    warnings.push(logs.lines.filter((l) => l.level === 40).map((l) => l.msg))
  }
  t.same(statuses, [204, 401], 'a preflight carries no token: CORS must answer it first')
  t.same(warnings, [
    [],
    ['fastify-rampart: corsPlugin was registered after jwtPlugin, so CORS preflights get 401 before CORS can answer them; register corsPlugin first (securityPlugin does)'],
  ])
})
