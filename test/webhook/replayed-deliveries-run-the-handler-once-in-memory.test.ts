import t from 'tap'
import { signWebhook } from '../../index.js'
import { captureLogs } from '../helpers.js'
import { DUPLICATE, fakeClock, gate, hookApp, post, SPEC, SPEC_NOW, UNAVAILABLE } from './helpers.js'
import { replayBehaves } from './replay.js'

replayBehaves(t, () => ({}))

const route = { scheme: 'standard', secrets: [SPEC.secret] } as const
function delivery (id = SPEC.id, timestamp = SPEC.timestamp) {
  return signWebhook({ scheme: 'standard', secret: SPEC.secret, body: SPEC.body, id, timestamp })
}

t.test('replay is on by default and remembers a delivery id for 72 h, across re-signed retries', async (t) => {
  const clock = fakeClock()
  const { app, calls } = await hookApp(t, route, { options: { now: clock.now } })
  t.equal((await post(app, delivery(), SPEC.body)).statusCode, 200)
  // A provider's retry carries the same id under a fresh timestamp.
  const later = SPEC_NOW + 72 * 3600_000
  clock.set(later - 1)
  t.same((await post(app, delivery(SPEC.id, Math.floor((later - 1) / 1000)), SPEC.body)).json(), DUPLICATE)
  clock.set(later)
  t.equal((await post(app, delivery(SPEC.id, later / 1000), SPEC.body)).json().webhook.id, SPEC.id, 'forgotten after the TTL')
  t.equal(calls(), 2)
})

t.test('a route replay ttl replaces the plugin default', async (t) => {
  const clock = fakeClock()
  const { app, calls } = await hookApp(t, { ...route, replay: { ttl: '10m' } }, { options: { now: clock.now } })
  await post(app, delivery(), SPEC.body)
  clock.set(SPEC_NOW + 600_000)
  t.equal((await post(app, delivery(SPEC.id, SPEC.timestamp + 600), SPEC.body)).statusCode, 200)
  t.equal(calls(), 2)
})

t.test('replay: false lets every delivery through', async (t) => {
  const { app, calls } = await hookApp(t, { ...route, replay: false })
  await post(app, delivery(), SPEC.body)
  t.equal((await post(app, delivery(), SPEC.body)).statusCode, 200)
  t.equal(calls(), 2)
})

t.test('a crashed handler frees its claim after pendingTtl; its late answer is logged, not kept', async (t) => {
  const clock = fakeClock()
  const logs = captureLogs()
  const g = gate()
  const { app, calls } = await hookApp(t, route, {
    options: { now: clock.now, replay: { pendingTtl: '30s' } },
    logs: logs.stream,
    answer: async (n) => {
      if (n === 1) {
        g.entered()
        await g.opened
      }
      return 200
    },
  })
  const stuck = post(app, delivery(), SPEC.body)
  await g.inside
  clock.set(SPEC_NOW + 30_000)
  t.equal((await post(app, delivery(), SPEC.body)).statusCode, 200, 'the retry is processed')
  g.open()
  t.equal((await stuck).statusCode, 200)
  t.equal(calls(), 2)
  t.match(logs.lines.at(-1), { level: 40, msg: 'fastify-rampart: the webhook claim expired before the handler answered; raise replay.pendingTtl' })
})

t.test('a memory store full of deliveries in progress answers 503 (fail closed)', async (t) => {
  const g = gate()
  const { app } = await hookApp(t, route, {
    options: { replay: { maxKeys: 1 } },
    answer: async () => {
      g.entered()
      await g.opened
      return 200
    },
  })
  const first = post(app, delivery('msg_1'), SPEC.body)
  await g.inside
  const res = await post(app, delivery('msg_2'), SPEC.body)
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '1')
  t.same(res.json(), UNAVAILABLE)
  g.open()
  t.equal((await first).statusCode, 200)
})

t.test('deliveries are remembered per route: the same id on two routes is processed on each', async (t) => {
  const { app, calls } = await hookApp(t, route)
  let other = 0
  app.post('/other', { config: { security: { webhook: { ...route, secrets: [SPEC.secret] } } } }, async () => ++other)
  t.equal((await post(app, delivery(), SPEC.body)).statusCode, 200)
  const res = await app.inject({ method: 'POST', url: '/other', headers: { 'content-type': 'application/json', ...delivery() }, payload: SPEC.body })
  t.equal(res.body, '1')
  t.equal(calls(), 1)
})
