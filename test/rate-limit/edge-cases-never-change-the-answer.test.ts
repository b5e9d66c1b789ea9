import Fastify from 'fastify'
import t from 'tap'
import { rateLimitPlugin, securityPlugin } from '../../index.js'
import { routeSecurityConfig, declareSecurityKey } from '../../lib/route-config.js'
import { binding, CLOSED, OPEN } from '../../plugins/rate-limit/decide.js'
import { addStep } from '../../lib/steps.js'
import { preflightLimitStep } from '../../plugins/rate-limit/plugin.js'
import { caught, makeApp } from '../helpers.js'
import { hit } from './helpers.js'

const decision = (allowed: boolean, remaining: number) => ({ allowed, debtMs: 0, remaining, resetMs: 0, retryAfterMs: 0 })

t.test('binding: which bucket speaks when one store answer is missing', async (t) => {
  t.equal(binding(decision(true, 3), OPEN), 'ip')
  t.equal(binding(decision(true, 3), CLOSED), 'ip')
  t.equal(binding(OPEN, decision(true, 3)), 'principal')
  t.equal(binding(decision(false, 0), decision(false, 0)), 'ip')
  t.equal(binding(decision(true, 1), decision(true, 2)), 'ip')
})

t.test('manual checks report a failed store as unavailable', async (t) => {
  for (const onStoreError of ['open', 'closed'] as const) {
    const app = makeApp(t)
    await app.register(rateLimitPlugin, { onStoreError, store: { custom: { consume: () => { throw new Error('down') } } } })
    await app.ready()
    t.match(await app.rateLimit.consume({ ip: '10.0.0.1' } as never), onStoreError === 'open' ? { allowed: true, unavailable: true } : { allowed: false, retryAfter: 1, unavailable: true })
  }
})

t.test('an allow-listed client is not checked in a later hook either', async (t) => {
  const app = makeApp(t)
  await app.register(rateLimitPlugin, { limit: 1, hook: 'preHandler', allowList: ['127.0.0.1'] })
  app.get('/', async () => 'ok')
  t.same(await hit(app, 2), [200, 200])
})

t.test('a preflight counted by the early hook is not counted again by the limiter', async (t) => {
  const app = makeApp(t)
  addStep(app, 'early', preflightLimitStep(app))
  await app.register(rateLimitPlugin, { limit: 2 })
  app.options('/api', async () => 'ok')
  app.get('/api', async () => 'ok')
  const preflight = { method: 'OPTIONS' as const, url: '/api', headers: { origin: 'https://a.example', 'access-control-request-method': 'GET' } }
  t.same(await hit(app, 3, preflight), [200, 200, 429])
  t.equal((await app.inject('/api')).statusCode, 429, 'a plain request passes through the early hook untouched')
})

t.test('the early preflight step lets preflights through where no limiter is registered', async (t) => {
  const app = makeApp(t)
  addStep(app, 'early', preflightLimitStep(app))
  app.options('/api', async () => 'ok')
  const preflight = { method: 'OPTIONS' as const, url: '/api', headers: { origin: 'https://a.example', 'access-control-request-method': 'GET' } }
  t.same(await hit(app, 3, preflight), [200, 200, 200])
})

t.test('cost refusals name the limit of a strict bucket and the burst of a GCRA one', async (t) => {
  const strict = makeApp(t)
  await strict.register(rateLimitPlugin, { strict: true, limit: 2 })
  const a = await caught(() => strict.get('/a', { config: { security: { rateLimit: { cost: 3 } } } }, async () => 'ok'))
  t.same(a.problems, ['config.security.rateLimit.cost: must not exceed the limit (2), or no request could ever pass'])
  const gcra = makeApp(t)
  await gcra.register(rateLimitPlugin, {})
  const b = await caught(() => gcra.get('/b', { config: { security: { rateLimit: { limit: 2, window: '1m', cost: 3 } } } }, async () => 'ok'))
  t.same(b.problems, ['config.security.rateLimit.cost: must not exceed the burst (2), or no request could ever pass'])
})

t.test('a string errorResponse body keeps a chosen content type', async (t) => {
  const app = makeApp(t)
  await app.register(rateLimitPlugin, { limit: 1, errorResponse: () => '<p>slow down</p>', errorContentType: 'text/html; charset=utf-8' })
  app.get('/', async () => 'ok')
  await hit(app, 1)
  const res = await app.inject('/')
  t.same([res.statusCode, res.headers['content-type'], res.body], [429, 'text/html; charset=utf-8', '<p>slow down</p>'])
})

t.test('route keys: multi-method routes, a plugin that reads without declaring, case-only typos', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  declareSecurityKey(app, 'mtls')
  app.route({ method: ['GET', 'POST'], url: '/m', config: { security: { mtls: { allow: ['spiffe://x/y'] } } as never }, handler: async () => 'ok' })
  const err = await caught(() => app.ready())
  t.match(err.message, /^Invalid config\.security for route GET,POST \/m, HEAD \/m:/)

  const reader = Fastify()
  t.teardown(() => reader.close())
  reader.addHook('onRoute', (routeOptions) => {
    routeSecurityConfig(routeOptions, 'jwt')
  })
  const container = await caught(() => reader.get('/x', { config: { security: 1 as never } }, async () => 'ok'))
  t.same(container.problems, ['config.security: must be an object (got number)'])

  const typo = await caught(() => Fastify().register(securityPlugin, { RateLimit: {}, cors: { origins: 'https://a.example' } } as never).ready())
  t.match(typo.problems, [/^RateLimit: is not a known option \(did you mean "rateLimit"\?\)/, 'cors.origins: must be a list (got string)'])
})
