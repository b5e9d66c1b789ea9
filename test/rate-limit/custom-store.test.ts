import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { MemoryStore, type RateLimitOptions, rateLimitPlugin, type RateLimitStore } from '../../index.js'
import { caught, makeApp } from '../helpers.js'
import { fakeClock, hit } from './helpers.js'

async function serve (t: Test, store: RateLimitStore, extra: Partial<RateLimitOptions> = {}) {
  const app = makeApp(t)
  await app.register(rateLimitPlugin, { limit: 2, window: '1m', store: { custom: store, timeoutMs: 50 }, ...extra })
  app.get('/', async () => 'ok')
  return app
}

t.test('a custom store decides (sync or async)', async (t) => {
  const clock = fakeClock()
  const inner = new MemoryStore({ maxKeys: 10, now: clock.now })
  const keys: string[] = []
  const sync = await serve(t, {
    consume (key, params, cost) {
      keys.push(key)
      return inner.consume(key, params, cost)
    },
  })
  t.same(await hit(sync, 3), [200, 200, 429])
  t.same(keys, ['default|ip|127.0.0.1', 'default|ip|127.0.0.1', 'default|ip|127.0.0.1'])
  const other = new MemoryStore({ maxKeys: 10, now: clock.now })
  const async = await serve(t, { consume: async (key, params, cost) => other.consume(key, params, cost) })
  t.same(await hit(async, 3), [200, 200, 429])
})

t.test('an async store with a principal checked in onRequest: the IP bucket, then the principal, both waited for', async (t) => {
  const clock = fakeClock()
  const inner = new MemoryStore({ maxKeys: 10, now: clock.now })
  const keys: string[] = []
  const app = await serve(t, {
    consume: async (key, params, cost) => {
      keys.push(key)
      return inner.consume(key, params, cost)
    },
  }, {
    principal: (request) => request.headers['x-user'] as string | undefined,
    hook: 'onRequest',
    principalHookReason: 'the test sends the principal itself',
  })
  const user = { url: '/', headers: { 'x-user': 'ada' } }
  t.same(await hit(app, 3, user), [200, 200, 429])
  t.equal(keys.length, 5, 'two checks per passing request, the refused one stops at the IP bucket')
  t.match(keys, [/\|ip\|127\.0\.0\.1$/, /ada$/, /\|ip\|127\.0\.0\.1$/, /ada$/, /\|ip\|127\.0\.0\.1$/])
})

t.test('a custom store that throws, rejects or hangs falls back as configured', async (t) => {
  const clock = fakeClock()
  const throwing = await serve(t, {
    consume () {
      throw new Error('down')
    },
  }, { now: clock.now })
  t.same(await hit(throwing, 3), [200, 200, 429], 'memory fallback')
  const rejecting = await serve(t, { consume: async () => { throw new Error('down') } }, { onStoreError: 'closed' })
  t.equal((await rejecting.inject('/')).statusCode, 503)
  const hanging = await serve(t, { consume: () => new Promise(() => {}) }, { onStoreError: 'open' })
  const res = await hanging.inject('/')
  t.equal(res.statusCode, 200, 'answered after the 50 ms timeout (the test would hang otherwise)')
  t.equal(res.headers['x-ratelimit-limit'], undefined)
})

t.test('store settings are checked', async (t) => {
  const problems = async (store: unknown) =>
    (await caught(() => Fastify().register(rateLimitPlugin, { store } as RateLimitOptions).ready())).problems
  t.same(await problems({}), ['rateLimit.store: set exactly one of redis (a client or a redis:// URL) or custom (a RateLimitStore)'])
  t.same(await problems({ redis: 'redis://127.0.0.1:6379', custom: { consume: () => undefined } }), [
    'rateLimit.store: set exactly one of redis (a client or a redis:// URL) or custom (a RateLimitStore)',
  ])
  t.same(await problems({ custom: {} }), ['rateLimit.store.custom: must be an object with a consume(key, params, cost) method'])
  t.same(await problems({ custom: 'memcached' }), [
    'rateLimit.store.custom: must be an object with a consume(key, params, cost) method (got string)',
  ])
})
