import t from 'tap'
import { corsPlugin, rateLimitPlugin, securityPlugin } from '../../index.js'
import { makeApp } from '../helpers.js'

const preflight = { method: 'OPTIONS' as const, url: '/api', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' } }

t.test('securityPlugin counts CORS preflights against the IP bucket, before CORS answers them', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { cors: { origins: ['https://app.example.com'] }, rateLimit: { limit: 2, window: '1m' } })
  app.post('/api', async () => 'ok')
  const codes = [(await app.inject(preflight)).statusCode, (await app.inject(preflight)).statusCode, (await app.inject(preflight)).statusCode]
  t.same(codes, [204, 204, 429])
  t.equal((await app.inject({ method: 'POST', url: '/api' })).statusCode, 429, 'one bucket for preflights and requests')
})

t.test('preflightCost: 0 exempts preflights; other costs charge that much', async (t) => {
  const free = makeApp(t)
  await free.register(securityPlugin, { cors: { origins: ['https://app.example.com'] }, rateLimit: { limit: 1, window: '1m', preflightCost: 0 } })
  free.post('/api', async () => 'ok')
  t.same([(await free.inject(preflight)).statusCode, (await free.inject(preflight)).statusCode], [204, 204])
  t.equal((await free.inject({ method: 'POST', url: '/api' })).statusCode, 200)

  const dear = makeApp(t)
  await dear.register(securityPlugin, { cors: { origins: ['https://app.example.com'] }, rateLimit: { limit: 3, window: '1m', preflightCost: 2 } })
  dear.post('/api', async () => 'ok')
  t.same([(await dear.inject(preflight)).statusCode, (await dear.inject(preflight)).statusCode], [204, 429])
})

t.test('standalone: a limiter registered before CORS counts preflights in its own hook; allow-listed clients are not counted', async (t) => {
  const app = makeApp(t)
  await app.register(rateLimitPlugin, { limit: 1, window: '1m', allowList: ['10.0.0.0/8'] })
  await app.register(corsPlugin, { origins: ['https://app.example.com'] })
  app.post('/api', async () => 'ok')
  t.same([(await app.inject(preflight)).statusCode, (await app.inject(preflight)).statusCode], [204, 429])
  t.same([(await app.inject({ ...preflight, remoteAddress: '10.1.1.1' })).statusCode, (await app.inject({ ...preflight, remoteAddress: '10.1.1.1' })).statusCode], [204, 204])
})

t.test('with global: false, preflights to unlimited routes are not counted', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { cors: { origins: ['https://app.example.com'] }, rateLimit: { limit: 1, window: '1m', global: false } })
  app.post('/api', async () => 'ok')
  t.same([(await app.inject(preflight)).statusCode, (await app.inject(preflight)).statusCode], [204, 204])
})
