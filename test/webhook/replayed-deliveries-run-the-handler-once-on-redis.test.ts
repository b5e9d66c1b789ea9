import { Redis } from 'ioredis'
import t from 'tap'
import { signWebhook, type WebhookOptions } from '../../index.js'
import { captureLogs } from '../helpers.js'
import { freePort, REDIS_URL, skipRedis, uniquePrefix } from '../redis-helpers.js'
import { DUPLICATE, gate, hookApp, IN_PROGRESS, post, SPEC, UNAVAILABLE } from './helpers.js'
import { replayBehaves } from './replay.js'

const route = { scheme: 'standard', secrets: [SPEC.secret], replay: { ttl: '10m' } } as const
const headers = signWebhook({ scheme: 'standard', secret: SPEC.secret, body: SPEC.body, id: SPEC.id, timestamp: SPEC.timestamp })
let n = 0
const onRedis = (): WebhookOptions => ({ replay: { store: { redis: REDIS_URL, prefix: uniquePrefix(`webhook${++n}`) } } })

t.test('on the shared Redis', { skip: skipRedis }, async (t) => {
  replayBehaves(t, onRedis)

  t.test('two instances on one Redis: a delivery processed by one is a duplicate on the other', async (t) => {
    const options = onRedis()
    const a = await hookApp(t, route, { options })
    const b = await hookApp(t, route, { options })
    t.equal((await post(a.app, headers, SPEC.body)).statusCode, 200)
    t.same((await post(b.app, headers, SPEC.body)).json(), DUPLICATE)
    t.equal(a.calls() + b.calls(), 1)
  })

  t.test('two instances, concurrent: the second gets 409 while the first runs; after a failure the other processes the retry', async (t) => {
    const options = onRedis()
    const g = gate()
    const a = await hookApp(t, route, {
      options,
      answer: async () => {
        g.entered()
        await g.opened
        return 500
      },
    })
    const b = await hookApp(t, route, { options })
    const first = post(a.app, headers, SPEC.body)
    await g.inside
    const second = await post(b.app, headers, SPEC.body)
    t.equal(second.statusCode, 409)
    t.equal(second.headers['retry-after'], '1')
    t.same(second.json(), IN_PROGRESS)
    g.open()
    t.equal((await first).statusCode, 500)
    t.equal((await post(b.app, headers, SPEC.body)).statusCode, 200)
    t.same((await post(a.app, headers, SPEC.body)).json(), DUPLICATE)
    t.equal(b.calls(), 1)
  })

  t.test('a store failure while settling is logged; the answer still goes out', async (t) => {
    const client = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 0 })
    t.teardown(() => client.disconnect())
    await new Promise((resolve) => client.once('ready', resolve))
    const logs = captureLogs()
    const { app } = await hookApp(t, route, {
      options: { replay: { store: { redis: client, prefix: uniquePrefix('webhook-settle') } } },
      logs: logs.stream,
      answer: () => {
        client.disconnect()
        return 200
      },
    })
    t.equal((await post(app, headers, SPEC.body)).statusCode, 200)
    t.match(logs.lines.at(-1), { level: 40, msg: 'fastify-rampart: the webhook replay store failed while settling a claim; it expires after replay.pendingTtl' })
  })
})

t.test('a Redis that cannot be reached: a warning at startup, then 503 with Retry-After (fail closed), logged even amid refusals', async (t) => {
  const logs = captureLogs()
  const port = await freePort()
  const { app, calls } = await hookApp(t, route, { options: { replay: { store: { redis: `redis://127.0.0.1:${port}` } } }, logs: logs.stream })
  t.ok(logs.lines.some((line) => line.msg === 'fastify-rampart: the webhook replay Redis is not reachable yet; deliveries get 503 until it is'))
  t.equal((await post(app, {}, SPEC.body)).statusCode, 401, 'a refusal is logged first')
  const res = await post(app, headers, SPEC.body)
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '1')
  t.same(res.json(), UNAVAILABLE)
  t.equal(calls(), 0)
  t.same(logs.lines.slice(-2).map((line) => line.msg), ['fastify-rampart: webhook refused', 'fastify-rampart: the webhook replay store failed; delivery refused (503)'])
})
