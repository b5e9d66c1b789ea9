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
  t.same(err.problems, ['headers: must be false or an object (got number)', 'header: is not a known option'])
  const notObject = await caught(() =>
    Fastify()
      .register(securityPlugin, 'x' as never)
      .ready()
  )
  t.equal(notObject.code, 'FST_RAMPART_INVALID_OPTIONS')
})
