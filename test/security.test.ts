import Fastify from 'fastify'
import t from 'tap'
import rampart, { securityPlugin } from '../index.js'
import { API_DEFAULTS, caught, headersOf, makeApp } from './helpers.js'

t.test('the default export is securityPlugin', async (t) => {
  t.equal(rampart, securityPlugin)
})

t.test('headers: false skips the headers plugin', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false, headers: false })
  app.get('/', async () => ({}))
  t.same(headersOf(await app.inject('/')), { 'content-type': 'application/json; charset=utf-8' })
  t.equal(app.hasReplyDecorator('cspNonce'), false)
})

t.test('zero config turns on headers and a 100-per-minute rate limit', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, {})
  app.get('/', async () => ({}))
  t.same(headersOf(await app.inject('/')), {
    ...API_DEFAULTS,
    'ratelimit-policy': '"default";q=100;w=60',
    ratelimit: '"default";r=99;t=1',
    'x-ratelimit-limit': '100',
    'x-ratelimit-remaining': '99',
    'x-ratelimit-reset': '1',
  })
})

t.test('unknown plugin keys and wrong shapes are refused', async (t) => {
  const err = await caught(() =>
    Fastify()
      .register(securityPlugin, { header: {}, headers: 1 } as never)
      .ready()
  )
  t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
  t.same(err.problems, ['headers: must be false or an object (got number)', 'header: is not a known option (did you mean "headers"?) (expected headers, trustedHost, cors, rateLimit, jwt, webhook, mtls)'])
  const notObject = await caught(() =>
    Fastify()
      .register(securityPlugin, 'x' as never)
      .ready()
  )
  t.equal(notObject.code, 'FST_RAMPART_INVALID_OPTIONS')
})

t.test('with CORS and a rate limit, browsers may read the limit headers, even on a 429', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, {
    cors: { origins: ['https://app.example.com'], exposedHeaders: ['X-Request-Id', 'Retry-After'] },
    rateLimit: { limit: 1, window: '1m', headers: 'draft' },
  })
  app.get('/', async () => ({}))
  const origin = { origin: 'https://app.example.com' }
  await app.inject({ url: '/', headers: origin })
  const limited = await app.inject({ url: '/', headers: origin })
  t.equal(limited.statusCode, 429)
  t.equal(limited.headers['access-control-allow-origin'], 'https://app.example.com')
  t.equal(limited.headers['access-control-expose-headers'], 'X-Request-Id, Retry-After, RateLimit, RateLimit-Policy')
  t.equal(limited.headers['x-frame-options'], 'DENY', 'security headers on the 429 too')

  const defaults = makeApp(t)
  await defaults.register(securityPlugin, { cors: { origins: ['https://app.example.com'] } })
  defaults.get('/', async () => ({}))
  t.equal(
    (await defaults.inject({ url: '/', headers: origin })).headers['access-control-expose-headers'],
    'RateLimit, RateLimit-Policy, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After'
  )

  const noLimit = makeApp(t)
  await noLimit.register(securityPlugin, { cors: { origins: ['https://app.example.com'] }, rateLimit: false })
  noLimit.get('/', async () => ({}))
  t.equal((await noLimit.inject({ url: '/', headers: origin })).headers['access-control-expose-headers'], undefined)
})

t.test('the suite runs trusted host first: a bad Host is refused before CORS or the limit count it', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, {
    trustedHost: { allowedHosts: ['api.example.com'] },
    cors: { origins: ['https://app.example.com'] },
    rateLimit: { limit: 1, window: '1m' },
  })
  app.get('/', async () => ({}))
  const bad = await app.inject({ url: '/', headers: { host: 'evil.example', origin: 'https://app.example.com' } })
  t.equal(bad.statusCode, 400)
  t.equal(bad.headers['access-control-allow-origin'], undefined)
  t.equal(bad.headers['x-ratelimit-remaining'], undefined)
  t.equal((await app.inject({ url: '/', headers: { host: 'api.example.com' } })).statusCode, 200, 'the refusal used no quota')
})
