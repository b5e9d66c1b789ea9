import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import t, { type Test } from 'tap'
import { type RateLimitOptions, rateLimitPlugin, securityPlugin } from '../../index.js'
import { caught, makeApp, captureLogs } from '../helpers.js'
import { fakeClock, hit, limitHeaders } from './helpers.js'

async function serve (t: Test, options: RateLimitOptions, fastify = {}): Promise<FastifyInstance> {
  const app = makeApp(t, fastify)
  await app.register(rateLimitPlugin, options)
  app.get('/', async () => ({ ok: true }))
  return app
}

t.test('headers on every allowed response, in both families', async (t) => {
  const clock = fakeClock()
  const app = await serve(t, { limit: 10, window: '10s', now: clock.now })
  t.same(limitHeaders(await app.inject('/')), {
    'ratelimit-policy': '"default";q=10;w=10',
    ratelimit: '"default";r=9;t=1',
    'x-ratelimit-limit': '10',
    'x-ratelimit-remaining': '9',
    'x-ratelimit-reset': '1',
  })
  await hit(app, 8)
  t.same(limitHeaders(await app.inject('/')), {
    'ratelimit-policy': '"default";q=10;w=10',
    ratelimit: '"default";r=0;t=10',
    'x-ratelimit-limit': '10',
    'x-ratelimit-remaining': '0',
    'x-ratelimit-reset': '10',
  })
})

t.test('429 with Retry-After, the error body, and the same reset in every header', async (t) => {
  const clock = fakeClock()
  const app = await serve(t, { limit: 2, window: '1m', now: clock.now })
  let handled = 0
  app.get('/count', async () => ++handled)
  await hit(app, 2, '/count')
  const res = await app.inject('/count')
  t.equal(res.statusCode, 429)
  t.same(res.json(), {
    statusCode: 429,
    code: 'FST_RAMPART_RATE_LIMITED',
    error: 'Too Many Requests',
    message: 'Rate limit exceeded, retry in 30 seconds',
  })
  t.same(limitHeaders(res), {
    'ratelimit-policy': '"default";q=2;w=60',
    ratelimit: '"default";r=0;t=30',
    'x-ratelimit-limit': '2',
    'x-ratelimit-remaining': '0',
    'x-ratelimit-reset': '30',
    'retry-after': '30',
  })
  t.equal(handled, 2, 'the handler never ran for the limited request')
  clock.advance(29_999)
  t.equal((await app.inject('/count')).statusCode, 429)
  clock.advance(1)
  t.equal((await app.inject('/count')).statusCode, 200, 'allowed exactly when Retry-After said')
})

t.test("the app's error handler cannot turn a 429 into anything else", async (t) => {
  const clock = fakeClock()
  const app = makeApp(t)
  app.setErrorHandler(async () => {
    throw new Error('broken error handler')
  })
  await app.register(rateLimitPlugin, { limit: 1, window: '1m', now: clock.now })
  app.get('/', async () => 'ok')
  await app.inject('/')
  const res = await app.inject('/')
  t.equal(res.statusCode, 429)
  t.equal(res.json().code, 'FST_RAMPART_RATE_LIMITED')
})

t.test('headers: draft, legacy or false', async (t) => {
  const clock = fakeClock()
  const draft = await serve(t, { limit: 5, window: 5000, headers: 'draft', now: clock.now })
  t.same(limitHeaders(await draft.inject('/')), { 'ratelimit-policy': '"default";q=5;w=5', ratelimit: '"default";r=4;t=1' })
  const legacy = await serve(t, { limit: 5, window: 5000, headers: 'legacy', now: clock.now })
  t.same(limitHeaders(await legacy.inject('/')), { 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '4', 'x-ratelimit-reset': '1' })
  const none = await serve(t, { limit: 1, window: 5000, headers: false, now: clock.now })
  t.same(limitHeaders(await none.inject('/')), {})
  t.same(limitHeaders(await none.inject('/')), { 'retry-after': '5' }, 'Retry-After is always sent on 429')
})

t.test('burst smooths: a burst of 2 with a rate of 60 per minute', async (t) => {
  const clock = fakeClock()
  const app = await serve(t, { limit: 60, window: '1m', burst: 2, now: clock.now })
  t.same(await hit(app, 3), [200, 200, 429])
  clock.advance(1000)
  t.same(await hit(app, 2), [200, 429])
})

t.test('IPv6 clients are grouped by /64; mapped IPv4 counts as IPv4', async (t) => {
  const clock = fakeClock()
  const app = await serve(t, { limit: 1, window: '1m', now: clock.now })
  const from = (remoteAddress: string) => app.inject({ url: '/', remoteAddress })
  t.equal((await from('2001:db8:1:2::1')).statusCode, 200)
  t.equal((await from('2001:db8:1:2:ffff:ffff:ffff:ffff')).statusCode, 429, 'same /64')
  t.equal((await from('2001:db8:1:3::1')).statusCode, 200, 'another /64')
  t.equal((await from('198.51.100.7')).statusCode, 200)
  t.equal((await from('::ffff:198.51.100.7')).statusCode, 429, 'mapped IPv4 is the same client')

  const wide = await serve(t, { limit: 1, window: '1m', ipv6Prefix: 48, now: clock.now })
  t.equal((await wide.inject({ url: '/', remoteAddress: '2001:db8:1:2::1' })).statusCode, 200)
  t.equal((await wide.inject({ url: '/', remoteAddress: '2001:db8:1:ffff::1' })).statusCode, 429, 'same /48')
})

t.test('a spoofed X-Forwarded-For from an untrusted peer changes nothing', async (t) => {
  const clock = fakeClock()
  const app = await serve(t, { limit: 1, window: '1m', now: clock.now })
  t.equal((await app.inject({ url: '/', headers: { 'x-forwarded-for': '1.1.1.1' } })).statusCode, 200)
  t.equal((await app.inject({ url: '/', headers: { 'x-forwarded-for': '2.2.2.2' } })).statusCode, 429)
  t.equal((await app.inject({ url: '/', headers: { 'x-real-ip': '3.3.3.3' } })).statusCode, 429)
})

t.test('with a trusted proxy CIDR, the client is the first untrusted hop', async (t) => {
  const clock = fakeClock()
  const app = await serve(t, { limit: 1, window: '1m', now: clock.now }, { trustProxy: ['127.0.0.1', '10.0.0.0/8'] })
  const via = (xff: string) => app.inject({ url: '/', headers: { 'x-forwarded-for': xff } })
  t.equal((await via('203.0.113.9, 10.0.0.2')).statusCode, 200)
  t.equal((await via('198.51.100.1, 203.0.113.9, 10.1.2.3')).statusCode, 429, 'the hop before the proxies is the client; its own XFF claim is ignored')
  t.equal((await via('203.0.113.10')).statusCode, 200, 'another client')
})

t.test('trustProxy: true is refused unless acknowledged', async (t) => {
  const err = await caught(() => Fastify({ trustProxy: true }).register(rateLimitPlugin, {}).ready())
  t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
  t.match(err.problems?.[0], /^rateLimit: Fastify's trustProxy: true .*set trustProxy to your proxies \(e\.g\. \['10\.0\.0\.0\/8'\]/)
  const app = Fastify({ trustProxy: true })
  t.teardown(() => app.close())
  await app.register(rateLimitPlugin, { acknowledgeTrustAllProxies: true })
  await app.ready()
  t.pass('acknowledged')
})

t.test('principal buckets: each principal its own; both must have room; no principal, IP only', async (t) => {
  const clock = fakeClock()
  const app = makeApp(t)
  app.addHook('onRequest', async (request) => {
    const token = request.headers.authorization
    ;(request as FastifyRequest & { user?: string }).user = token === 'Bearer good-a' ? 'a' : token === 'Bearer good-b' ? 'b' : undefined
  })
  await app.register(rateLimitPlugin, {
    limit: 2,
    window: '1m',
    now: clock.now,
    principal: (request) => (request as FastifyRequest & { user?: string }).user,
  })
  app.get('/', async () => 'ok')
  const as = (token: string | undefined, ip: string) =>
    app.inject({ url: '/', remoteAddress: ip, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })
  t.same([(await as('good-a', '10.0.0.1')).statusCode, (await as('good-a', '10.0.0.2')).statusCode, (await as('good-a', '10.0.0.3')).statusCode], [200, 200, 429], 'user a is limited across IPs')
  t.equal((await as('good-b', '10.0.0.1')).statusCode, 200, 'user b has its own bucket')
  t.equal((await as('good-b', '10.0.0.1')).statusCode, 429, 'but IP 10.0.0.1 is now out of room')
  const invalid = await Promise.all([as('forged-1', '10.0.0.9'), as('forged-2', '10.0.0.9'), as('forged-3', '10.0.0.9')])
  t.same(invalid.map((r) => r.statusCode), [200, 200, 429], 'invalid tokens share the IP bucket: they mint no buckets')
})

t.test('tiers pick limits per request', async (t) => {
  const clock = fakeClock()
  const app = await serve(t, {
    limit: 1,
    window: '1m',
    now: clock.now,
    tiers: { free: { limit: 2, window: '1m' }, pro: { limit: 5, window: '1m', burst: 5 } },
    tier: (request) => request.headers['x-plan'] as string | undefined,
  })
  const as = (plan: string | undefined, ip: string) => app.inject({ url: '/', remoteAddress: ip, headers: plan ? { 'x-plan': plan } : {} })
  const pro = await as('pro', '10.0.0.1')
  t.equal(pro.headers['ratelimit-policy'], '"default.pro";q=5;w=60')
  t.same((await Promise.all([1, 2, 3, 4, 5].map(() => as('pro', '10.0.0.1')))).map((r) => r.statusCode), [200, 200, 200, 200, 429])
  t.same([(await as('free', '10.0.0.2')).statusCode, (await as('free', '10.0.0.2')).statusCode, (await as('free', '10.0.0.2')).statusCode], [200, 200, 429])
  t.same([(await as(undefined, '10.0.0.3')).statusCode, (await as(undefined, '10.0.0.3')).statusCode], [200, 429], 'no tier: the base limit')
  t.same([(await as('platinum', '10.0.0.4')).statusCode, (await as('platinum', '10.0.0.4')).statusCode], [200, 429], 'unknown tier: the base limit')
})

t.test('per route: false, own limit, group, cost', async (t) => {
  const clock = fakeClock()
  const app = makeApp(t)
  await app.register(securityPlugin, { headers: false, rateLimit: { limit: 3, window: '1m', now: clock.now } })
  app.get('/health', { config: { security: { rateLimit: false } } }, async () => 'ok')
  app.post('/login', { config: { security: { rateLimit: { limit: 2, window: '15m', group: 'auth' } } } }, async () => 'in')
  app.post('/reset', { config: { security: { rateLimit: { limit: 2, window: '15m', group: 'auth' } } } }, async () => 'reset')
  app.post('/export', { config: { security: { rateLimit: { cost: 3 } } } }, async () => 'big')
  app.get('/search', { config: { security: { rateLimit: { limit: 1, window: '1m' } } } }, async () => 's')
  app.get('/', async () => 'home')

  t.same(await hit(app, 10, '/health'), Array(10).fill(200), 'exempt')
  t.same(limitHeaders(await app.inject('/health')), {})
  const login = await app.inject({ method: 'POST', url: '/login' })
  t.equal(login.headers['ratelimit-policy'], '"auth";q=2;w=900')
  t.equal((await app.inject({ method: 'POST', url: '/reset' })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/login' })).statusCode, 429, 'the group shares one bucket')
  t.equal((await app.inject('/search')).headers['ratelimit-policy'], '"GET /search";q=1;w=60')
  t.equal((await app.inject('/search')).statusCode, 429)
  t.equal((await app.inject({ method: 'POST', url: '/export' })).headers['x-ratelimit-remaining'], '0', 'cost 3 of the plugin-wide 3')
  t.equal((await app.inject('/')).statusCode, 429, 'the plugin-wide bucket is spent')
})

t.test('bad route config throws at route add', async (t) => {
  const app = makeApp(t)
  await app.register(rateLimitPlugin, { limit: 5 })
  const cost = await caught(() => app.get('/a', { config: { security: { rateLimit: { cost: 6 } } } }, async () => 1))
  t.equal(cost.code, 'FST_RAMPART_INVALID_ROUTE_CONFIG')
  t.same(cost.problems, ['config.security.rateLimit.cost: must not exceed the burst (5), or no request could ever pass'])
  const shape = await caught(() =>
    app.get('/b', { config: { security: { rateLimit: { limit: 0, window: '1y', extra: true } as never } } }, async () => 1)
  )
  t.same(shape.problems, [
    'config.security.rateLimit.limit: must be >= 1 (got number)',
    "config.security.rateLimit.window: must be a positive number of milliseconds or a duration like '30s', '15m', '1h', '1d', at most 365 days (got string)",
    'config.security.rateLimit.extra: is not a known option',
  ])
  app.post('/c', { config: { security: { rateLimit: { group: 'g', limit: 2, window: '1m' } } } }, async () => 1)
  const group = await caught(() => app.post('/d', { config: { security: { rateLimit: { group: 'g', limit: 3, window: '1m' } } } }, async () => 1))
  t.same(group.problems, ['config.security.rateLimit.group: group "g" is already used with another limit, window or burst (or strict)'])
  const type = await caught(() => app.get('/e', { config: { security: { rateLimit: 10 as never } } }, async () => 1))
  t.same(type.problems, ['config.security.rateLimit: must be false or an object (got number)'])
})

t.test('allowList: IPs and CIDRs from request.ip, or a function', async (t) => {
  const clock = fakeClock()
  const app = await serve(t, { limit: 1, window: '1m', now: clock.now, allowList: ['10.0.0.0/8', '2001:db8::1'] })
  t.same(await hit(app, 3, { url: '/', remoteAddress: '10.9.9.9' }), [200, 200, 200])
  t.same(limitHeaders(await app.inject({ url: '/', remoteAddress: '10.9.9.9' })), {})
  t.same(await hit(app, 3, { url: '/', remoteAddress: '2001:db8::1' }), [200, 200, 200])
  t.same(await hit(app, 2, { url: '/', remoteAddress: '11.0.0.1' }), [200, 429])
  t.same(await hit(app, 2, { url: '/', remoteAddress: '11.0.0.2', headers: { 'x-forwarded-for': '10.0.0.1' } }), [200, 429], 'not from a spoofable header')

  const fn = await serve(t, { limit: 1, window: '1m', now: clock.now, allowList: (request) => request.headers['x-internal'] === 'yes' })
  t.same(await hit(fn, 2, { url: '/', headers: { 'x-internal': 'yes' } }), [200, 200])
  t.same(await hit(fn, 2), [200, 429])
})

t.test('user functions that throw are logged and treated as not given; never a 500', async (t) => {
  const clock = fakeClock()
  const { stream, lines } = captureLogs()
  const app = Fastify({ logger: { level: 'warn', stream } })
  t.teardown(() => app.close())
  const boom = () => {
    throw new Error('user bug')
  }
  await app.register(rateLimitPlugin, { limit: 1, window: '1m', now: clock.now, principal: boom, tier: boom, allowList: boom, tiers: { x: { limit: 5, window: '1m' } } })
  app.get('/', async () => 'ok')
  t.same(await hit(app, 2), [200, 429])
  t.ok(lines.some((l) => l.level === 40 && /rateLimit\.(allowList|tier|principal) threw/.test(l.msg)))
})

t.test('bad options are listed', async (t) => {
  const problems = async (options: unknown) =>
    (await caught(() => Fastify().register(rateLimitPlugin, options as RateLimitOptions).ready())).problems
  t.same(await problems({ limit: 'many', window: '1 minute', burst: 0, hook: 'onSend', ipv6Prefix: 16, allowList: ['10.0.0.0/33'] }), [
    'rateLimit.limit: must be integer (got string)',
    "rateLimit.window: must be a positive number of milliseconds or a duration like '30s', '15m', '1h', '1d', at most 365 days (got string)",
    'rateLimit.burst: must be >= 1 (got number)',
    "rateLimit.hook: must be one of 'onRequest', 'preParsing', 'preValidation', 'preHandler' (got string)",
    'rateLimit.ipv6Prefix: must be >= 32 (got number)',
  ])
  t.same(await problems({ allowList: ['10.0.0.0/33', 'nope'] }), [
    'rateLimit.allowList[0]: must be an IP address or a CIDR range (10.0.0.0/8, 2001:db8::/32)',
    'rateLimit.allowList[1]: must be an IP address or a CIDR range (10.0.0.0/8, 2001:db8::/32)',
  ])
  t.same(await problems({ store: { redis: 'http://x', prefix: 'a{b}' } }), [
    'rateLimit.store.redis: must be an ioredis client or a redis:// URL (got string)',
    'rateLimit.store.prefix: must not contain { or } (got string)',
  ])
  t.same(await problems({ tiers: { pro: { limit: 1 } } }), ['rateLimit.tiers.pro.window: is required'])
})

t.test('the check can run in preHandler (after auth) or preParsing', async (t) => {
  for (const hook of ['preHandler', 'preParsing', 'preValidation'] as const) {
    const clock = fakeClock()
    const app = makeApp(t)
    const order: string[] = []
    app.addHook('preValidation', async () => {
      order.push('preValidation')
    })
    await app.register(rateLimitPlugin, { limit: 1, window: '1m', hook, now: clock.now })
    app.post('/', async () => 'ok')
    t.same(await hit(app, 2, { method: 'POST', url: '/', payload: { a: 1 } }), [200, 429], hook)
  }
})

t.test('a memory store full of limited clients limits newcomers and logs once', async (t) => {
  const clock = fakeClock()
  const { stream, lines } = captureLogs()
  const app = Fastify({ logger: { level: 'error', stream } })
  t.teardown(() => app.close())
  await app.register(rateLimitPlugin, { limit: 1, window: '1m', maxKeys: 2, now: clock.now })
  app.get('/', async () => 'ok')
  await hit(app, 1, { url: '/', remoteAddress: '10.0.0.1' })
  await hit(app, 1, { url: '/', remoteAddress: '10.0.0.2' })
  t.same(await hit(app, 2, { url: '/', remoteAddress: '10.0.0.3' }), [429, 429])
  t.equal(lines.filter((l) => l.level === 50 && /full of limited clients/.test(l.msg)).length, 1)
})

t.test('route limits inherit what they do not set', async (t) => {
  const clock = fakeClock()
  const app = makeApp(t)
  await app.register(rateLimitPlugin, {
    limit: 4,
    window: '1m',
    burst: 2,
    now: clock.now,
    tiers: { pro: { limit: 8, window: '1m' } },
    tier: (request) => request.headers['x-plan'] as string | undefined,
  })
  app.get('/plain', { config: { security: { rateLimit: {} } } }, async () => 1)
  app.get('/window', { config: { security: { rateLimit: { window: '10s' } } } }, async () => 1)
  app.get('/burst', { config: { security: { rateLimit: { limit: 3, burst: 1 } } } }, async () => 1)
  app.get('/heavy', { config: { security: { rateLimit: { cost: 2 } } } }, async () => 1)
  t.equal((await app.inject('/plain')).headers['ratelimit-policy'], '"default";q=4;w=60')
  t.equal((await app.inject('/window')).headers['ratelimit-policy'], '"GET /window";q=4;w=10')
  t.same(await hit(app, 2, '/window'), [200, 429], 'burst 2 from the plugin')
  t.same(await hit(app, 2, '/burst'), [200, 429], 'own burst')
  const pro = await app.inject({ url: '/heavy', headers: { 'x-plan': 'pro' } })
  t.equal(pro.headers['ratelimit-policy'], '"default.pro";q=8;w=60', 'a cost-only route keeps the tiers')
  t.equal(pro.headers['x-ratelimit-remaining'], '6')
})

t.test('the default clock is the real one', async (t) => {
  const app = await serve(t, { limit: 1, window: '1h' })
  t.same(await hit(app, 2), [200, 429])
})

t.test('per route, the check can move to another hook (after that route\'s own auth)', async (t) => {
  const clock = fakeClock()
  const app = makeApp(t)
  await app.register(rateLimitPlugin, {
    limit: 2,
    window: '1m',
    now: clock.now,
    hook: 'onRequest',
    principalHookReason: 'routes that authenticate move their check to their own preHandler; the rest are IP-only',
    principal: (request) => (request as FastifyRequest & { user?: string }).user,
  })
  const auth = async (request: FastifyRequest) => {
    ;(request as FastifyRequest & { user?: string }).user = request.headers['x-user'] as string | undefined
  }
  app.get('/me', { preHandler: auth, config: { security: { rateLimit: { hook: 'preHandler' } } } }, async () => 'me')
  app.get('/two', { preHandler: [auth], config: { security: { rateLimit: { hook: 'preHandler', limit: 1, window: '1m' } } } }, async () => 'two')
  app.post('/upload', { config: { security: { rateLimit: { hook: 'preParsing' } } } }, async () => 'up')
  app.get('/same', { config: { security: { rateLimit: { hook: 'onRequest', cost: 1 } } } }, async () => 'same')
  const as = (url: string, user: string, ip: string) => app.inject({ url, remoteAddress: ip, headers: { 'x-user': user } })
  t.same([(await as('/me', 'u', '10.0.0.1')).statusCode, (await as('/me', 'u', '10.0.0.2')).statusCode, (await as('/me', 'u', '10.0.0.3')).statusCode], [200, 200, 429], 'the principal, known after the route\'s auth, is limited across IPs')
  t.same([(await as('/two', 'v', '10.0.1.1')).statusCode, (await as('/two', 'v', '10.0.1.2')).statusCode], [200, 429])
  t.same(await hit(app, 3, { method: 'POST', url: '/upload', remoteAddress: '10.0.2.1', payload: { a: 1 } }), [200, 200, 429])
  t.same(await hit(app, 1, { url: '/same', remoteAddress: '10.0.3.1' }), [200])
})

t.test('requests to no route count against the IP bucket (probing for paths is limited), unless global is off', async (t) => {
  const clock = fakeClock()
  const app = await serve(t, { limit: 2, window: '1m', now: clock.now })
  t.same([(await app.inject('/missing')).statusCode, (await app.inject('/other-missing')).statusCode], [404, 404])
  const res = await app.inject('/missing')
  t.equal(res.statusCode, 429)
  t.equal(res.headers['retry-after'], '30')
  t.equal((await app.inject('/')).statusCode, 429, 'the same bucket as the real routes')

  const off = await serve(t, { limit: 1, window: '1m', global: false, now: clock.now })
  off.get('/limited', { config: { security: { rateLimit: { limit: 1, window: '1m' } } } }, async () => 'ok')
  t.same([(await off.inject('/missing')).statusCode, (await off.inject('/missing')).statusCode], [404, 404])
  t.same(limitHeaders(await off.inject('/missing')), {}, 'no limit headers without a limit')
  t.same(await hit(off, 2, '/limited'), [200, 429], 'while the route with its own limit is limited')
})
