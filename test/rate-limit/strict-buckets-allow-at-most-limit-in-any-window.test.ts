import Fastify, { type FastifyInstance } from 'fastify'
import fc from 'fast-check'
import { Redis } from 'ioredis'
import t from 'tap'
import { rateLimitPlugin } from '../../index.js'
import { decideLog, type Log, SlidingLogStore } from '../../plugins/rate-limit/sliding-log.js'
import { caught, makeApp } from '../helpers.js'
import { REDIS_URL, skipRedis, uniquePrefix } from '../redis-helpers.js'
import { fakeClock } from './helpers.js'

const params = { limit: 3, windowMs: 60_000, burst: 3 }

/** Most requests that passed inside any window of `windowMs`, from their times. */
function mostInAnyWindow (times: number[], windowMs: number): number {
  let most = 0
  for (const start of times) most = Math.max(most, times.filter((at) => at >= start && at < start + windowMs).length)
  return most
}

t.test("GCRA's guarantee: up to burst + limit in one window; strict: at most limit in any window", async (t) => {
  const run = async (strict: boolean) => {
    const clock = fakeClock()
    const app = makeApp(t)
    await app.register(rateLimitPlugin, { limit: 4, window: '1m', strict, now: clock.now })
    app.get('/', async () => 'ok')
    const passed: number[] = []
    // A burst at the start, then one request every 5 s for a minute.
    for (let at = 0; at <= 60_000; at += 5000) {
      const burst = at === 0 ? 4 : 1
      for (let i = 0; i < burst; i++) if ((await app.inject('/')).statusCode === 200) passed.push(clock.now())
      clock.advance(5000)
    }
    return mostInAnyWindow(passed, 60_000)
  }
  t.equal(await run(false), 7, 'GCRA: a full burst, then the refill (one per window / limit) inside the same minute')
  t.equal(await run(true), 4, 'strict: never more than limit in any minute')
})

t.test('decideLog: hand-worked numbers', async (t) => {
  const first = decideLog(undefined, 0, params, 2)
  t.same(first.decision, { allowed: true, debtMs: 0, remaining: 1, resetMs: 60_000, retryAfterMs: 0 })
  const second = decideLog(first.log, 10_000, params, 1)
  t.same(second.log, [[0, 2], [10_000, 1]])
  const refused = decideLog(second.log, 20_000, params, 2)
  t.same(refused.decision, { allowed: false, debtMs: 0, remaining: 0, resetMs: 40_000, retryAfterMs: 40_000 }, 'waits for the first entry (2 units) to leave')
  const later = decideLog(second.log, 60_000, params, 2)
  t.equal(later.decision.allowed, true, 'the entry at 0 left the window at 60 000')
  t.same(later.log, [[10_000, 1], [60_000, 2]])
  t.equal(decideLog(undefined, 0, params, 4).decision.retryAfterMs, Number.POSITIVE_INFINITY, 'a cost above the limit never passes')
  const refund = decideLog([[0, 2]] as Log, 1, params, -3)
  t.same(refund, { decision: { allowed: true, debtMs: 0, remaining: 3, resetMs: 0, retryAfterMs: 0 }, log: [] })
})

t.test('decideLog never lets more than limit units into any window (property)', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 30_000 }), fc.integer({ min: 1, max: 3 })), { maxLength: 60 }), (steps) => {
      let log: Log | undefined
      let now = 0
      const passed: [number, number][] = []
      for (const [gap, cost] of steps) {
        now += gap
        const next = decideLog(log, now, params, cost)
        log = next.log
        if (next.decision.allowed) passed.push([now, cost])
      }
      for (const [start] of passed) {
        const inWindow = passed.filter(([at]) => at >= start && at < start + params.windowMs).reduce((n, [, c]) => n + c, 0)
        if (inWindow > params.limit) return false
      }
      return true
    })
  )
  t.pass()
})

t.test('the memory sliding log is bounded and never evicts a limited key', async (t) => {
  const clock = fakeClock()
  let full = 0
  const store = new SlidingLogStore({ maxKeys: 2, now: clock.now, onFull: () => full++ })
  const one = { limit: 1, windowMs: 60_000, burst: 1 }
  t.equal(store.consume('a', one, 1).allowed, true)
  t.equal(store.consume('b', one, 1).allowed, true)
  t.equal(store.consume('c', one, 1).allowed, false, 'a and b are limited: c is refused, not given their room')
  t.equal(store.consume('c', one, 1).allowed, false)
  t.equal(full, 1, 'reported once')
  clock.advance(60_000)
  t.equal(store.consume('c', one, 1).allowed, true, 'expired keys make room')
  t.equal(store.consume('c', one, -1).allowed, true, 'a reward that empties the log drops the key')
  t.equal(new SlidingLogStore({ maxKeys: 1 }).consume('x', one, 1).allowed, true, 'default clock')
})

t.test('strict settings are checked', async (t) => {
  const err = await caught(() =>
    Fastify().register(rateLimitPlugin, {
      strict: true,
      limit: 5000,
      burst: 2,
      tiers: { pro: { limit: 2000, window: '1m', strict: true } },
      buckets: { default: { limit: 1, window: '1s' } },
    }).ready()
  )
  t.same(err.problems, [
    'rateLimit.limit: must be at most 1000 with strict (a sliding log keeps one entry per request); use GCRA (strict: false) for larger limits',
    'rateLimit.burst: has no meaning with strict (at most limit requests pass in any window); remove it',
    'rateLimit.tiers.pro.limit: must be at most 1000 with strict (a sliding log keeps one entry per request); use GCRA (strict: false) for larger limits',
    "rateLimit.buckets.default: is already the plugin-wide bucket's name",
  ])
  const custom = await caught(() => Fastify().register(rateLimitPlugin, { buckets: { s: { limit: 1, window: '1s', strict: true } }, store: { custom: { consume: () => ({ allowed: true, debtMs: 0, remaining: 0, resetMs: 0, retryAfterMs: 0 }) } } }).ready())
  t.same(custom.problems, ['rateLimit.store.custom: strict buckets need the memory or Redis store (a custom store decides GCRA only)'])
  const app = makeApp(t)
  await app.register(rateLimitPlugin, {})
  const route = await caught(() => app.get('/a', { config: { security: { rateLimit: { strict: true, limit: 2, window: '1m', cost: 3 } } } }, async () => 'ok'))
  t.same(route.problems, ['config.security.rateLimit.cost: must not exceed the limit (2), or no request could ever pass'])
  app.get('/b', { config: { security: { rateLimit: { strict: true, limit: 2, window: '1m' } } } }, async () => 'ok')
  t.same([(await app.inject('/b')).statusCode, (await app.inject('/b')).statusCode, (await app.inject('/b')).statusCode], [200, 200, 429])
})

t.test('strict on Redis: two instances share at most limit in any window', { skip: skipRedis }, async (t) => {
  const prefix = uniquePrefix('strict')
  const make = async (): Promise<FastifyInstance> => {
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(rateLimitPlugin, { store: { redis: REDIS_URL, prefix } })
    app.post('/otp', { config: { security: { rateLimit: { limit: 3, window: '1m', strict: true } } } }, async () => 'ok')
    return app
  }
  const [a, b] = [await make(), await make()]
  const codes = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).inject({ method: 'POST', url: '/otp' })))
  t.equal(codes.filter((r) => r.statusCode === 200).length, 3, 'exactly the limit, across both instances')
  const refused = codes.find((r) => r.statusCode === 429)
  t.match(refused?.headers['retry-after'], /^(59|60)$/)
  t.equal(refused?.headers['x-ratelimit-remaining'], '0')

  // The store's own checks: rewards and a cost above the limit.
  const { RedisStore } = await import('../../plugins/rate-limit/redis-store.js')
  const client = new Redis(REDIS_URL)
  t.teardown(() => client.quit())
  const store = new RedisStore({ redis: client, prefix: uniquePrefix('strict-store'), timeoutMs: 1000 })
  const two = { limit: 2, windowMs: 60_000, burst: 2 }
  t.match(await store.consumeStrict('k', two, 2), { allowed: true, remaining: 0 })
  t.match(await store.consumeStrict('k', two, 1), { allowed: false })
  t.match(await store.consumeStrict('k', two, -1), { allowed: true, remaining: 1 })
  t.match(await store.consumeStrict('k', two, -5), { allowed: true, remaining: 2, resetMs: 0 })
  t.match(await store.consumeStrict('k', two, 3), { allowed: false, retryAfterMs: Number.POSITIVE_INFINITY })
  t.match(await store.consume('g', two, -1), { allowed: true, remaining: 2 }, 'a GCRA reward on an empty key deletes nothing and stays full')
})
