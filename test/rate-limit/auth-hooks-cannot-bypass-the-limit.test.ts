import type { FastifyRequest } from 'fastify'
import t from 'tap'
import { rateLimitPlugin } from '../../index.js'
import { caught, makeApp } from '../helpers.js'
import { fakeClock, hit, limitHeaders } from './helpers.js'

type Authed = FastifyRequest & { user?: string }

t.test('with a principal, an auth hook answering 401 in onRequest is still limited by IP', async (t) => {
  const clock = fakeClock()
  const app = makeApp(t)
  await app.register(rateLimitPlugin, { limit: 3, window: '1m', now: clock.now, principal: (request) => (request as Authed).user })
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers.authorization !== 'Bearer good') return reply.code(401).send({ error: 'bad token' })
    ;(request as Authed).user = 'alice'
  })
  app.get('/', async () => 'ok')
  const bad = await hit(app, 6, { url: '/', headers: { authorization: 'Bearer forged' } })
  t.same(bad, [401, 401, 401, 429, 429, 429], 'six bad tokens: the IP bucket stops them')
  const res = await app.inject({ url: '/', remoteAddress: '10.0.0.2', headers: { authorization: 'Bearer forged' } })
  t.same(limitHeaders(res), {
    'ratelimit-policy': '"default";q=3;w=60',
    ratelimit: '"default";r=2;t=20',
    'x-ratelimit-limit': '3',
    'x-ratelimit-remaining': '2',
    'x-ratelimit-reset': '20',
  }, 'a 401 carries the IP bucket headers')
})

t.test('the principal bucket runs after authentication and speaks when it is tighter', async (t) => {
  const clock = fakeClock()
  const app = makeApp(t)
  await app.register(rateLimitPlugin, { limit: 2, window: '1m', now: clock.now, principal: (request) => (request as Authed).user })
  app.addHook('preValidation', async (request) => {
    ;(request as Authed).user = request.headers['x-user'] as string | undefined
  })
  app.get('/', async () => 'ok')
  const as = (ip: string) => app.inject({ url: '/', remoteAddress: ip, headers: { 'x-user': 'bob' } })
  t.equal((await as('10.0.0.1')).statusCode, 200)
  const second = await as('10.0.0.2')
  t.equal(second.headers['x-ratelimit-remaining'], '0', "the principal's bucket (0 left) speaks over the fresh IP's")
  const third = await as('10.0.0.3')
  t.equal(third.statusCode, 429)
  t.equal(third.headers['retry-after'], '30')
})

t.test('a principal with hook onRequest is refused unless a reason is given', async (t) => {
  const principal = (request: FastifyRequest) => (request as Authed).user
  const plugin = await caught(() => makeApp(t).register(rateLimitPlugin, { principal, hook: 'onRequest' }).ready())
  t.equal(plugin.code, 'FST_RAMPART_INVALID_OPTIONS')
  t.same(plugin.problems, [
    "rateLimit.hook: a principal checked in onRequest runs before your authentication hooks, so every request looks unauthenticated (or the principal is unverified); use the default hook ('preHandler'), or say why it is safe with principalHookReason",
  ])
  const app = makeApp(t)
  await app.register(rateLimitPlugin, { principal })
  const route = await caught(() => app.get('/a', { config: { security: { rateLimit: { hook: 'onRequest' } } } }, async () => 'ok'))
  t.same(route.problems, [
    "config.security.rateLimit.hook: a principal checked in onRequest runs before your authentication hooks, so every request looks unauthenticated (or the principal is unverified); use the default hook ('preHandler'), or say why it is safe with hookReason",
  ])
  app.get('/b', { config: { security: { rateLimit: { hook: 'onRequest', hookReason: 'mTLS identity is known before any hook' } } } }, async () => 'ok')
  t.equal((await app.inject('/b')).statusCode, 200)

  const reasoned = makeApp(t)
  reasoned.addHook('onRequest', async (request) => {
    ;(request as Authed).user = 'carol'
  })
  await reasoned.register(rateLimitPlugin, { principal, hook: 'onRequest', principalHookReason: 'auth runs in an onRequest hook registered first', limit: 1 })
  reasoned.get('/', async () => 'ok')
  t.same(await hit(reasoned, 2), [200, 429])
})

t.test('global: false limits only the routes that ask for it', async (t) => {
  const clock = fakeClock()
  const app = makeApp(t)
  await app.register(rateLimitPlugin, { global: false, limit: 1, window: '1m', now: clock.now })
  app.get('/', async () => 'ok')
  app.post('/login', { config: { security: { rateLimit: { limit: 2, window: '15m' } } } }, async () => 'ok')
  app.post('/export', { config: { security: { rateLimit: {} } } }, async () => 'ok')
  t.same(await hit(app, 3), [200, 200, 200], 'unlimited, and no headers')
  t.same(limitHeaders(await app.inject('/')), {})
  t.same(await hit(app, 3, { method: 'POST', url: '/login' }), [200, 200, 429])
  t.same(await hit(app, 2, { method: 'POST', url: '/export' }), [200, 429], '{} uses the plugin-wide bucket')
})

t.test('a route cost above the base burst is accepted when a tier can pass it', async (t) => {
  const clock = fakeClock()
  const app = makeApp(t)
  await app.register(rateLimitPlugin, {
    limit: 5,
    window: '1m',
    now: clock.now,
    tiers: { pro: { limit: 10, window: '1m' } },
    tier: (request) => request.headers['x-plan'] as string | undefined,
  })
  app.post('/export', { config: { security: { rateLimit: { cost: 8 } } } }, async () => 'ok')
  const err = await caught(() => app.post('/huge', { config: { security: { rateLimit: { cost: 11 } } } }, async () => 'ok'))
  t.same(err.problems, ['config.security.rateLimit.cost: exceeds the burst of every bucket this route can use (the largest is 10), so no request could ever pass'])
  const pro = await app.inject({ method: 'POST', url: '/export', headers: { 'x-plan': 'pro' } })
  t.equal(pro.statusCode, 200)
  const free = await app.inject({ method: 'POST', url: '/export', remoteAddress: '10.0.0.9' })
  t.equal(free.statusCode, 429, 'the base bucket can never pass a cost of 8')
  t.equal(free.headers['retry-after'], '60', 'and is told the window, not Infinity')
})
