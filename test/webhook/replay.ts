import type { Test } from 'tap'
import { signWebhook, type WebhookOptions, type WebhookRouteConfig } from '../../index.js'
import { DUPLICATE, gate, hookApp, IN_PROGRESS, post, SPEC } from './helpers.js'

// Replay and idempotency, the same on every store: `options` gives each
// test its own store (a fresh memory store, or a fresh Redis prefix).
const standard = { scheme: 'standard', secrets: [SPEC.secret], replay: { ttl: '10m' } } as const
const delivery = { headers: signWebhook({ scheme: 'standard', secret: SPEC.secret, body: SPEC.body, id: SPEC.id, timestamp: SPEC.timestamp }), body: SPEC.body }

export function replayBehaves (t: Test, options: () => WebhookOptions): void {
  t.test('the same valid delivery twice: the handler runs once, the repeat gets 200 {"duplicate": true}', async (t) => {
    const { app, calls } = await hookApp(t, standard, { options: options() })
    const first = await post(app, delivery.headers, delivery.body)
    t.equal(first.statusCode, 200)
    t.same(first.json().webhook, { scheme: 'standard', id: SPEC.id, timestamp: SPEC.timestamp })
    const repeat = await post(app, delivery.headers, delivery.body)
    t.equal(repeat.statusCode, 200)
    t.same(repeat.json(), DUPLICATE)
    t.equal(repeat.headers['content-type'], 'application/json; charset=utf-8')
    t.equal(calls(), 1)
  })

  t.test('a failed first delivery (a throw, a 5xx, a 4xx) is released: the retry is processed', async (t) => {
    for (const failure of ['throw', 500, 503, 422] as const) {
      const { app, calls } = await hookApp(t, standard, { options: options(), answer: (n) => (n === 1 ? failure : 200) })
      const first = await post(app, delivery.headers, delivery.body)
      t.equal(first.statusCode, failure === 'throw' ? 500 : failure)
      const retry = await post(app, delivery.headers, delivery.body)
      t.equal(retry.statusCode, 200, `after ${failure}`)
      t.same(retry.json().webhook.id, SPEC.id)
      t.same((await post(app, delivery.headers, delivery.body)).json(), DUPLICATE)
      t.equal(calls(), 2)
      await app.close()
    }
  })

  t.test('two concurrent duplicates: the second gets 409 with Retry-After: 1 while the first runs', async (t) => {
    const g = gate()
    const { app, calls } = await hookApp(t, standard, {
      options: options(),
      answer: async () => {
        g.entered()
        await g.opened
        return 200
      },
    })
    const first = post(app, delivery.headers, delivery.body)
    await g.inside
    const second = await post(app, delivery.headers, delivery.body)
    t.equal(second.statusCode, 409)
    t.equal(second.headers['retry-after'], '1')
    t.same(second.json(), IN_PROGRESS)
    g.open()
    t.equal((await first).statusCode, 200)
    t.same((await post(app, delivery.headers, delivery.body)).json(), DUPLICATE)
    t.equal(calls(), 1)
  })

  t.test('Stripe: a retry of the same event body under a new t is a duplicate', async (t) => {
    const route: WebhookRouteConfig = { scheme: 'stripe', secrets: ['whsec_stripe'], replay: { ttl: '10m' } }
    const { app, calls } = await hookApp(t, route, { options: options() })
    const body = `{"id":"evt_${Math.random()}"}`
    const at = (timestamp: number) => post(app, signWebhook({ scheme: 'stripe', secret: 'whsec_stripe', body, timestamp }), body)
    t.equal((await at(SPEC.timestamp - 60)).statusCode, 200)
    t.same((await at(SPEC.timestamp)).json(), DUPLICATE)
    t.equal(calls(), 1)
  })

  t.test('GitHub: the same body twice is a duplicate, whatever X-GitHub-Delivery says', async (t) => {
    const { app, calls } = await hookApp(t, { scheme: 'github', secrets: ['gh'], replay: { ttl: '10m' } }, { options: options() })
    const body = `{"zen":"${Math.random()}"}`
    const headers = signWebhook({ scheme: 'github', secret: 'gh', body })
    t.equal((await post(app, { ...headers, 'x-github-delivery': 'a' }, body)).statusCode, 200)
    t.same((await post(app, { ...headers, 'x-github-delivery': 'b' }, body)).json(), DUPLICATE)
    t.equal(calls(), 1)
  })
}
