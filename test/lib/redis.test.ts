import Fastify from 'fastify'
import { Redis } from 'ioredis'
import t from 'tap'
import { connectRedis, FAST_REDIS_OPTIONS, taggedKey } from '../../lib/redis.js'
import { captureLogs } from '../helpers.js'
import { freePort, REDIS_URL, skipRedis } from '../redis-helpers.js'

t.test('a client made from a URL logs its connection errors through Fastify, once per 10 s', async (t) => {
  const { stream, lines } = captureLogs()
  const app = Fastify({ logger: { level: 'error', stream } })
  const port = await freePort()
  const stderr: string[] = []
  const write = process.stderr.write.bind(process.stderr)
  process.stderr.write = ((chunk: string) => { stderr.push(String(chunk)); return true }) as typeof process.stderr.write
  t.teardown(() => { process.stderr.write = write })
  const conn = connectRedis(`redis://127.0.0.1:${port}`, { log: app.log, purpose: 'test', options: { retryStrategy: () => 20 } })
  t.ok(conn.owned)
  t.notOk(await conn.ready(300), 'nothing listens there')
  const started = Date.now()
  await conn.close()
  t.ok(Date.now() - started < 500, 'closing with Redis down does not wait')
  const errors = lines.filter((l) => l.msg === 'fastify-rampart: the test Redis connection failed')
  t.equal(errors.length, 1, 'several reconnect failures, one line')
  t.match(errors[0], { level: 50, err: { code: 'ECONNREFUSED' } })
  t.notOk(stderr.some((s) => s.includes('Unhandled error event')), 'nothing reaches stderr')
  await app.close()
})

t.test('a client the user passed is used as is and left open', { skip: skipRedis }, async (t) => {
  const client = new Redis(REDIS_URL)
  t.teardown(() => client.disconnect())
  const conn = connectRedis(client, { log: Fastify().log, purpose: 'test' })
  t.equal(conn.client, client)
  t.notOk(conn.owned)
  t.ok(await conn.ready(2000))
  t.ok(await conn.ready(10), 'already ready')
  await conn.close()
  t.equal(await client.ping(), 'PONG')
  t.equal(client.listenerCount('error'), 0, 'no listener added to the user\'s client')
})

t.test('a client we own and that is up closes with QUIT', { skip: skipRedis }, async (t) => {
  const conn = connectRedis(REDIS_URL, { log: Fastify().log, purpose: 'test' })
  t.ok(await conn.ready(2000))
  let quit = false
  const original = conn.client.quit.bind(conn.client)
  conn.client.quit = (async () => { quit = true; return original() }) as typeof conn.client.quit
  await conn.close()
  t.ok(quit)
})

t.test('a failing QUIT falls back to disconnect', async (t) => {
  const conn = connectRedis('redis://127.0.0.1:1', { log: Fastify().log, purpose: 'test', options: { lazyConnect: true } })
  Object.defineProperty(conn.client, 'status', { value: 'ready' })
  let disconnected = false
  conn.client.quit = async () => { throw new Error('boom') }
  conn.client.disconnect = () => { disconnected = true }
  await conn.close()
  t.ok(disconnected)
})

t.test('taggedKey escapes braces and percent, and tags the whole key', async (t) => {
  t.equal(taggedKey('p:', 'a{b}%c'), 'p:{a%7Bb%7D%25c}')
})

t.test('reconnects back off up to a second', async (t) => {
  const retry = FAST_REDIS_OPTIONS.retryStrategy as (times: number) => number
  t.equal(retry(3), 300)
  t.equal(retry(50), 1000)
})
