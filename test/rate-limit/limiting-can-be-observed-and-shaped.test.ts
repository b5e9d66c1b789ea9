import Fastify from 'fastify'
import t from 'tap'
import { rateLimitPlugin } from '../../index.js'
import { captureLogs, makeApp } from '../helpers.js'
import { fakeClock, hit, limitHeaders } from './helpers.js'

t.test('onExceeding and onExceeded see every counted request, and a refused client is logged (rate-limited)', async (t) => {
  const clock = fakeClock()
  const { stream, lines } = captureLogs()
  const app = Fastify({ logger: { stream, level: 'warn' } })
  t.teardown(() => app.close())
  const exceeding: string[] = []
  const exceeded: string[] = []
  await app.register(rateLimitPlugin, {
    limit: 1,
    window: '1m',
    now: clock.now,
    onExceeding: (_request, key) => exceeding.push(key),
    onExceeded: (_request, key) => exceeded.push(key),
  })
  app.get('/', async () => 'ok')
  t.same(await hit(app, 3), [200, 429, 429])
  t.same(exceeding, ['127.0.0.1'])
  t.same(exceeded, ['127.0.0.1', '127.0.0.1'])
  const refusals = lines.filter((l) => l.msg === 'fastify-rampart: rate-limited a client')
  t.equal(refusals.length, 1, 'one line per 10 s')
  t.match(refusals[0], { level: 40, code: 'FST_RAMPART_RATE_LIMITED', bucket: 'default', by: 'ip', retryAfter: 60, suppressed: 0 })
})

t.test('errorResponse shapes the body; status and headers stay ours', async (t) => {
  const clock = fakeClock()
  const app = makeApp(t)
  await app.register(rateLimitPlugin, {
    limit: 1,
    window: '1m',
    now: clock.now,
    errorContentType: 'application/problem+json',
    errorResponse: (request, context) => ({
      type: 'https://example.com/probs/rate-limited',
      title: request.headers['accept-language'] === 'fr' ? 'Trop de requêtes' : 'Too many requests',
      status: context.statusCode,
      retryAfter: context.retryAfter,
      bucket: context.bucket,
      limit: context.limit,
      was: context.defaultBody.code,
    }),
  })
  app.get('/', async () => 'ok')
  await hit(app, 1)
  const res = await app.inject({ url: '/', headers: { 'accept-language': 'fr' } })
  t.equal(res.statusCode, 429)
  t.match(res.headers['content-type'], /^application\/problem\+json\b/)
  t.equal(res.headers['retry-after'], '60')
  t.same(res.json(), {
    type: 'https://example.com/probs/rate-limited',
    title: 'Trop de requêtes',
    status: 429,
    retryAfter: 60,
    bucket: 'default',
    limit: 1,
    was: 'FST_RAMPART_RATE_LIMITED',
  })
  t.same(limitHeaders(res), {
    'ratelimit-policy': '"default";q=1;w=60',
    ratelimit: '"default";r=0;t=60',
    'x-ratelimit-limit': '1',
    'x-ratelimit-remaining': '0',
    'x-ratelimit-reset': '60',
    'retry-after': '60',
  })
})

t.test('an errorResponse that throws, returns nothing or an unserialisable value falls back to the default body', async (t) => {
  const bodies = [
    () => { throw new Error('boom') },
    () => undefined,
    () => ({ n: 10n }),
    () => 'Slow down',
  ]
  const seen: unknown[] = []
  for (const errorResponse of bodies) {
    const app = makeApp(t)
    await app.register(rateLimitPlugin, { limit: 1, errorResponse })
    app.get('/', async () => 'ok')
    await hit(app, 1)
    const res = await app.inject('/')
    seen.push([res.statusCode, res.headers['content-type'], res.body.startsWith('{') ? res.json().code : res.body])
  }
  t.same(seen, [
    [429, 'application/json; charset=utf-8', 'FST_RAMPART_RATE_LIMITED'],
    [429, 'application/json; charset=utf-8', 'FST_RAMPART_RATE_LIMITED'],
    [429, 'application/json; charset=utf-8', 'FST_RAMPART_RATE_LIMITED'],
    [429, 'text/plain; charset=utf-8', 'Slow down'],
  ])
})

t.test('errorResponse shapes the 503 of onStoreError closed too', async (t) => {
  const app = makeApp(t)
  await app.register(rateLimitPlugin, {
    onStoreError: 'closed',
    store: { custom: { consume: () => { throw new Error('down') } } },
    errorResponse: (_request, context) => ({ status: context.statusCode, retryAfter: context.retryAfter, code: context.code }),
  })
  app.get('/', async () => 'ok')
  const res = await app.inject('/')
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '1')
  t.same(res.json(), { status: 503, retryAfter: 1, code: 'FST_RAMPART_RATE_LIMIT_UNAVAILABLE' })
})

t.test('keyGenerator replaces the IP key (a tenant id); one that throws or returns nothing falls back to the IP', async (t) => {
  const clock = fakeClock()
  const app = makeApp(t)
  const seen: string[] = []
  await app.register(rateLimitPlugin, {
    limit: 1,
    window: '1m',
    now: clock.now,
    keyGenerator: (request) => {
      const tenant = request.headers['x-tenant']
      if (tenant === 'broken') throw new Error('lookup failed')
      return tenant as string
    },
    onExceeded: (_request, key) => seen.push(key),
  })
  app.get('/', async () => 'ok')
  const as = (tenant: string | undefined, ip: string) => app.inject({ url: '/', remoteAddress: ip, headers: tenant === undefined ? {} : { 'x-tenant': tenant } })
  t.same([(await as('acme', '10.0.0.1')).statusCode, (await as('acme', '10.0.0.2')).statusCode], [200, 429], 'one tenant, one bucket across IPs')
  t.equal((await as('globex', '10.0.0.1')).statusCode, 200)
  t.same([(await as(undefined, '10.0.0.3')).statusCode, (await as('broken', '10.0.0.3')).statusCode], [200, 429], 'no tenant: the IP key')
  t.same(seen, ['acme', '10.0.0.3'])
})

t.test('callbacks that throw are logged and ignored', async (t) => {
  const app = makeApp(t)
  await app.register(rateLimitPlugin, {
    limit: 1,
    onExceeding: () => { throw new Error('metrics down') },
    onExceeded: () => { throw new Error('metrics down') },
  })
  app.get('/', async () => 'ok')
  t.same(await hit(app, 2), [200, 429])
})
