import type { ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { once } from 'node:events'
import Fastify, { type FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { LIMITER_REDIS_OPTIONS, type RateLimitOptions, rateLimitPlugin } from '../../index.js'
import { redisKey } from '../../plugins/rate-limit/redis-store.js'
import { captureLogs } from '../helpers.js'
import { fakeClock, hit, limitHeaders } from './helpers.js'
import { freePort, REDIS_URL, skipRedis, startRedis } from '../redis-helpers.js'

// Real Redis (test/redis-helpers.ts): the shared server for sharing tests,
// private redis-servers for the outage tests.
const skip = skipRedis
const run = `rampart:test:${process.pid}:${Date.now()}:`

async function instance (t: Test, options: Partial<RateLimitOptions> & { store: RateLimitOptions['store'] }): Promise<FastifyInstance> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(rateLimitPlugin, { limit: 10, window: '1m', ...options })
  app.get('/', async () => 'ok')
  return app
}

t.test('two instances on one Redis share one exact limit', { skip }, async (t) => {
  const prefix = `${run}share:`
  // A generous bound: on a loaded machine a fallback would change the count.
  const a = await instance(t, { store: { redis: REDIS_URL, prefix, timeoutMs: 2000 } })
  const b = await instance(t, { store: { redis: REDIS_URL, prefix, timeoutMs: 2000 } })
  const codes: number[] = []
  for (let i = 0; i < 14; i++) codes.push((await (i % 2 === 0 ? a : b).inject('/')).statusCode)
  t.same(codes, [...Array(10).fill(200), 429, 429, 429, 429])
  const last = await b.inject('/')
  t.equal(last.headers['x-ratelimit-remaining'], '0')
  t.match(last.headers['retry-after'], /^[1-9]\d*$/)
})

t.test('50 parallel requests over two instances with limit 10: exactly 10 pass', { skip }, async (t) => {
  const prefix = `${run}parallel:`
  // A generous bound: on a loaded machine a fallback would change the count.
  const a = await instance(t, { store: { redis: REDIS_URL, prefix, timeoutMs: 2000 } })
  const b = await instance(t, { store: { redis: REDIS_URL, prefix, timeoutMs: 2000 } })
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).inject('/')))
  t.equal(results.filter((r) => r.statusCode === 200).length, 10)
  t.equal(results.filter((r) => r.statusCode === 429).length, 40)
})

t.test('skewed local clocks do not matter: Redis keeps the time', { skip }, async (t) => {
  const prefix = `${run}skew:`
  const past = fakeClock(0)
  const future = fakeClock(4_000_000_000_000)
  const a = await instance(t, { store: { redis: REDIS_URL, prefix }, limit: 4, now: past.now })
  const b = await instance(t, { store: { redis: REDIS_URL, prefix }, limit: 4, now: future.now })
  const codes = [(await a.inject('/')).statusCode, (await b.inject('/')).statusCode, (await a.inject('/')).statusCode, (await b.inject('/')).statusCode, (await a.inject('/')).statusCode]
  t.same(codes, [200, 200, 200, 200, 429])
})

t.test('a client we are given is used as is, and keys are hash-tagged per bucket', { skip }, async (t) => {
  const client = new Redis(REDIS_URL, LIMITER_REDIS_OPTIONS)
  t.teardown(() => client.quit())
  const prefix = `${run}own:`
  const app = await instance(t, { store: { redis: client, prefix }, limit: 2 })
  t.same(await hit(app, 3), [200, 200, 429])
  const key = redisKey(prefix, 'default|ip|127.0.0.1')
  t.equal(key, `${prefix}{default|ip|127.0.0.1}`)
  const ttl = await client.pttl(key)
  // Expiry rounds up to the whole second (then most writes keep the TTL they have).
  t.ok(ttl > 0 && ttl <= 61_002, 'the key expires with its bucket, at most a second later')
  t.equal(redisKey('p:', 'a{b}%c'), 'p:{a%7Bb%7D%25c}', 'braces in keys cannot pick the hash slot')
  t.equal(client.status, 'ready', 'our close does not quit a client we did not create')
})

t.test('a client that is already connected is used at once', { skip }, async (t) => {
  const { RedisStore } = await import('../../plugins/rate-limit/redis-store.js')
  const client = new Redis(REDIS_URL)
  t.teardown(() => client.quit())
  await client.ping()
  const store = new RedisStore({ redis: client, prefix: `${run}ready:`, timeoutMs: 100 })
  t.equal(await store.ready(1000), true)
  t.equal((await store.consume('k', { limit: 1, windowMs: 1000, burst: 1 }, 1)).allowed, true)
  await store.close()
  t.equal(client.status, 'ready', 'not ours to close')
})

t.test('NOSCRIPT: the script is loaded again after SCRIPT FLUSH', { skip }, async (t) => {
  const client = new Redis(REDIS_URL)
  t.teardown(() => client.quit())
  const app = await instance(t, { store: { redis: client, prefix: `${run}flush:` }, limit: 3 })
  t.equal((await app.inject('/')).statusCode, 200)
  await client.script('FLUSH')
  t.equal((await app.inject('/')).statusCode, 200)
  t.equal((await app.inject('/')).headers['x-ratelimit-remaining'], '0', 'state kept across the reload')
})

// ---- outages, on a private redis-server -------------------------------------

async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  child.kill('SIGKILL')
  await once(child, 'exit')
}

t.test('store outages: memory, open and closed behave as documented, and limits return', { skip }, async (t) => {
  const port = await freePort()
  let server = await startRedis(port)
  t.teardown(() => stop(server))
  const url = `redis://127.0.0.1:${port}`
  const clock = fakeClock()
  const make = (onStoreError: RateLimitOptions['onStoreError']) =>
    instance(t, { store: { redis: url, prefix: `${run}outage:${onStoreError}:`, timeoutMs: 100 }, limit: 2, onStoreError, now: clock.now })
  const memory = await make('memory')
  const open = await make('open')
  const closed = await make('closed')
  t.same(await hit(memory, 1), [200], 'Redis up')

  await stop(server)
  t.same(await hit(memory, 3), [200, 200, 429], "'memory': a local limiter stands in")
  const opened = await open.inject('/')
  t.equal(opened.statusCode, 200, "'open': let through")
  t.same(limitHeaders(opened), {}, "'open': no limit headers to promise")
  const refused = await closed.inject('/')
  t.equal(refused.statusCode, 503, "'closed': 503")
  t.equal(refused.headers['retry-after'], '1')
  t.same(refused.json(), {
    statusCode: 503,
    code: 'FST_RAMPART_RATE_LIMIT_UNAVAILABLE',
    error: 'Service Unavailable',
    message: 'Service temporarily unavailable',
  })

  server = await startRedis(port)
  // Reconnection and the 1 s breaker: poll (bounded) until Redis answers for the limiter again.
  let back = false
  for (let i = 0; i < 60 && !back; i++) {
    await sleep(100)
    const res = await closed.inject('/')
    back = res.statusCode === 200 && res.headers['x-ratelimit-limit'] === '2'
  }
  t.ok(back, 'limits return after Redis restarts')
  t.same(await hit(closed, 2), [200, 429], 'and are enforced by Redis again')
})

t.test('a Redis that hangs cannot hold a request past the timeout', { skip }, async (t) => {
  const port = await freePort()
  const server = await startRedis(port)
  t.teardown(async () => {
    server.kill('SIGCONT')
    await stop(server)
  })
  const client = new Redis({ port, host: '127.0.0.1' }) // no commandTimeout of its own: ours must bound the wait
  t.teardown(() => client.disconnect())
  const app = await instance(t, { store: { redis: client, prefix: `${run}hang:`, timeoutMs: 100 }, onStoreError: 'closed' })
  t.equal((await app.inject('/')).statusCode, 200)
  server.kill('SIGSTOP')
  const res = await app.inject('/')
  t.equal(res.statusCode, 503, 'answered (the test would hang otherwise), fail-closed')
})

t.test('principal buckets on Redis', { skip }, async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(rateLimitPlugin, {
    limit: 2,
    window: '1m',
    store: { redis: REDIS_URL, prefix: `${run}principal:` },
    principal: (request) => request.headers['x-user'] as string | undefined,
  })
  app.get('/', async () => 'ok')
  const as = (user: string, ip: string) => app.inject({ url: '/', remoteAddress: ip, headers: { 'x-user': user } })
  t.same([(await as('u1', '10.0.0.1')).statusCode, (await as('u1', '10.0.0.2')).statusCode, (await as('u1', '10.0.0.3')).statusCode], [200, 200, 429])
})

t.test('a Redis down at startup: the app starts, warns, and onStoreError applies', { skip }, async (t) => {
  const port = await freePort()
  const { stream, lines } = captureLogs()
  const app = Fastify({ logger: { level: 'warn', stream } })
  t.teardown(() => app.close())
  await app.register(rateLimitPlugin, { limit: 1, window: '1m', store: { redis: `redis://127.0.0.1:${port}`, prefix: `${run}down:` } })
  app.get('/', async () => 'ok')
  t.ok(lines.some((l) => /Redis is not reachable yet/.test(l.msg)))
  t.same(await hit(app, 2), [200, 429], 'the memory fallback limits meanwhile')
})
