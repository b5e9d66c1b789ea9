import { sign as octokitSign, verify as octokitVerify } from '@octokit/webhooks-methods'
import { Webhook } from 'standardwebhooks'
import Stripe from 'stripe'
import t from 'tap'
import { signWebhook } from '../../index.js'
import { caught } from '../helpers.js'
import { SPEC, SPEC_NOW } from './helpers.js'

t.test('standard: the spec vector, and the reference library verifies what we sign', async (t) => {
  t.same(signWebhook({ scheme: 'standard', secret: SPEC.secret, body: SPEC.body, id: SPEC.id, timestamp: SPEC.timestamp }), {
    'webhook-id': SPEC.id,
    'webhook-timestamp': String(SPEC.timestamp),
    'webhook-signature': SPEC.signature,
  })
  const before = Math.floor(Date.now() / 1000)
  const headers = signWebhook({ scheme: 'standard', secret: SPEC.secret, body: SPEC.body })
  const after = Math.floor(Date.now() / 1000)
  t.match(headers['webhook-id'], /^msg_[A-Za-z0-9_-]{22}$/)
  t.not(headers['webhook-id'], signWebhook({ scheme: 'standard', secret: SPEC.secret, body: SPEC.body })['webhook-id'])
  const timestamp = Number(headers['webhook-timestamp'])
  t.ok(timestamp >= before && timestamp <= after, 'default timestamp: now')
  t.same(new Webhook(SPEC.secret).verify(SPEC.body, headers), { test: 2432232314 }, 'standardwebhooks accepts it')
})

t.test('stripe: the same header stripe-node generates, and stripe-node verifies it', async (t) => {
  const stripe = new Stripe('sk_test_not_used')
  const body = '{"id":"evt_1"}'
  const headers = signWebhook({ scheme: 'stripe', secret: 'whsec_abc', body: Buffer.from(body), timestamp: SPEC.timestamp })
  t.same(headers, { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret: 'whsec_abc', timestamp: SPEC.timestamp }) })
  const now = signWebhook({ scheme: 'stripe', secret: 'whsec_abc', body })
  t.same(stripe.webhooks.constructEvent(body, now['stripe-signature'], 'whsec_abc'), { id: 'evt_1' })
})

t.test('github: the documented example, and octokit verifies what we sign', async (t) => {
  t.same(signWebhook({ scheme: 'github', secret: "It's a Secret to Everybody", body: 'Hello, World!' }), {
    'x-hub-signature-256': await octokitSign("It's a Secret to Everybody", 'Hello, World!'),
  })
  const body = new Uint8Array(Buffer.from('{"zen":"Keep it logically awesome."}'))
  const headers = signWebhook({ scheme: 'github', secret: 's', body: body as Buffer })
  t.ok(await octokitVerify('s', Buffer.from(body).toString(), headers['x-hub-signature-256']))
})

t.test('bad options throw FST_RAMPART_INVALID_OPTIONS, never echoing the secret', async (t) => {
  const cases: [unknown, string[]][] = [
    [{ scheme: 'svix', secret: '', body: 1, id: 'a.b', timestamp: -1 }, [
      "signWebhook.scheme: must be one of 'standard', 'stripe', 'github' (got string)",
      'signWebhook.secret: must be a non-empty string (got string)',
      'signWebhook.body: must be a string or a Buffer (got number)',
      'signWebhook.id: must be 1-256 characters without "." (got string)',
      'signWebhook.timestamp: must be >= 0 (got number)',
    ]],
    [{ scheme: 'github', secret: 's', body: { a: 1 } }, ['signWebhook.body: must be a string or a Buffer (got object)']],
    [{ scheme: 'standard', secret: 'whsec_not base64!', body: '' }, ['signWebhook.secret: must be whsec_ followed by base64 (got string)']],
  ]
  for (const [options, problems] of cases) {
    const err = await caught(() => signWebhook(options as never))
    t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
    t.same(err.problems, problems)
    t.notOk(err.message.includes('not base64!'))
  }
})

t.test('a signed delivery round-trips through the plugin on every scheme', async (t) => {
  const { hookApp, post } = await import('./helpers.js')
  const routes = [
    { scheme: 'standard', secrets: [SPEC.secret] },
    { scheme: 'stripe', secrets: ['whsec_abc'] },
    { scheme: 'github', secrets: ['s'] },
  ] as const
  for (const route of routes) {
    const { app } = await hookApp(t, route)
    const body = '{"ok":true}'
    const res = await post(app, signWebhook({ scheme: route.scheme, secret: route.secrets[0], body, timestamp: SPEC_NOW / 1000 }), body)
    t.equal(res.statusCode, 200, route.scheme)
    t.same(res.json().body, { ok: true })
  }
})
