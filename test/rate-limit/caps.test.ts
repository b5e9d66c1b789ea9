import Fastify from 'fastify'
import t from 'tap'
import { type RateLimitOptions, rateLimitPlugin } from '../../index.js'
import { caught, makeApp } from '../helpers.js'
import { fakeClock } from './helpers.js'

// Issue 10, item 6: `limit: 1e21` sent `r=1e+21` and `window: 1e300` sent
// `t=1.0000000000000001e+295`: not RFC 9651 integers (at most 15 digits).
// Limits, burst, cost, window and maxKeys now have upper bounds.

const problems = async (options: unknown) =>
  (await caught(() => Fastify().register(rateLimitPlugin, options as RateLimitOptions).ready())).problems

const WINDOW = "must be a positive number of milliseconds or a duration like '30s', '15m', '1h', '1d', at most 365 days"

t.test('numbers above the caps are refused, with the cap in the message', async (t) => {
  t.same(await problems({ limit: 1e21, window: 1e300, burst: 1_000_001, maxKeys: 10_000_001 }), [
    'rateLimit.limit: must be <= 1000000000 (got number)',
    `rateLimit.window: ${WINDOW} (got number)`,
    'rateLimit.burst: must be <= 1000000 (got number)',
    'rateLimit.maxKeys: must be <= 10000000 (got number)',
  ])
  t.same(await problems({ tiers: { pro: { limit: 1_000_000_001, window: '366d' } } }), [
    'rateLimit.tiers.pro.limit: must be <= 1000000000 (got number)',
    `rateLimit.tiers.pro.window: ${WINDOW} (got string)`,
  ])
  const app = makeApp(t)
  await app.register(rateLimitPlugin, { limit: 5 })
  const route = await caught(() =>
    app.get('/', { config: { security: { rateLimit: { limit: 2e9, burst: 2e6, cost: 2e6, window: 31_536_000_001 } } } }, async () => 1)
  )
  t.same(route.problems, [
    'config.security.rateLimit.limit: must be <= 1000000000 (got number)',
    `config.security.rateLimit.window: ${WINDOW} (got number)`,
    'config.security.rateLimit.burst: must be <= 1000000 (got number)',
    'config.security.rateLimit.cost: must be <= 1000000 (got number)',
  ])
})

t.test('duration strings are capped at 365 days in every unit', async (t) => {
  const at = ['31536000000ms', '31536000s', '525600m', '8760h', '365d', '1ms', '9s', '99m', '364d', '300d', '8759h', '1000ms']
  for (const window of at) {
    const app = Fastify()
    await app.register(rateLimitPlugin, { window, limit: 1_000_000_000 })
    await app.ready()
    t.pass(window)
    await app.close()
  }
  const over = ['31536000001ms', '31536001s', '525601m', '8761h', '366d', '400d', '999999999d', '1000d', '0d', '01d', '1y']
  for (const window of over) t.same(await problems({ window }), [`rateLimit.window: ${WINDOW} (got string)`], window)
})

t.test('at the caps, every header number is an RFC 9651 integer (at most 15 digits)', async (t) => {
  const clock = fakeClock()
  const app = makeApp(t)
  await app.register(rateLimitPlugin, { limit: 1, window: '365d', burst: 1_000_000, now: clock.now })
  app.get('/', { config: { security: { rateLimit: { cost: 1_000_000 } } } }, async () => 'ok')
  t.equal((await app.inject('/')).statusCode, 200)
  const refused = await app.inject('/')
  t.equal(refused.statusCode, 429)
  const numbers = [
    ...String(refused.headers.ratelimit).matchAll(/[rt]=([^;,]+)/g),
    ...String(refused.headers['ratelimit-policy']).matchAll(/[qw]=([^;,]+)/g),
  ].map((m) => m[1])
  numbers.push(String(refused.headers['retry-after']), String(refused.headers['x-ratelimit-reset']))
  t.equal(numbers.length, 6)
  for (const n of numbers) t.match(n, /^\d{1,15}$/, n)
})
