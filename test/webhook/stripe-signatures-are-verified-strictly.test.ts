import { createHash, createHmac } from 'node:crypto'
import Stripe from 'stripe'
import t from 'tap'
import { hookApp, INVALID, post, SPEC_NOW } from './helpers.js'

const stripe = new Stripe('sk_test_not_used')
const secret = 'whsec_test_stripe_endpoint_secret'
const body = '{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}'
const now = SPEC_NOW / 1000
const route = { scheme: 'stripe', secrets: [secret], replay: false } as const

function header (timestamp = now, payload = body, key = secret): string {
  return stripe.webhooks.generateTestHeaderString({ payload, secret: key, timestamp })
}
function hex (timestamp: number, key = secret): string {
  return createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex')
}

t.test("a delivery signed by stripe-node passes; its id is the body's SHA-256", async (t) => {
  const { app } = await hookApp(t, route)
  const res = await post(app, { 'stripe-signature': header() }, body)
  t.equal(res.statusCode, 200)
  t.same(res.json(), {
    body: JSON.parse(body),
    raw: Buffer.from(body).toString('base64'),
    webhook: { scheme: 'stripe', id: createHash('sha256').update(body).digest('hex'), timestamp: now },
  })
})

t.test('a timestamp in the future beyond the tolerance is refused (stripe-node accepts it)', async (t) => {
  const { app } = await hookApp(t, route)
  t.equal((await post(app, { 'stripe-signature': header(now + 299) }, body)).statusCode, 200)
  const res = await post(app, { 'stripe-signature': header(now + 3600) }, body)
  t.equal(res.statusCode, 401)
  t.same(res.json(), INVALID)
  t.equal((await post(app, { 'stripe-signature': header(now - 301) }, body)).statusCode, 401, 'and in the past')
})

t.test('two v1 signatures: either matching passes', async (t) => {
  const { app } = await hookApp(t, route)
  t.equal((await post(app, { 'stripe-signature': `t=${now},v1=${hex(now, 'whsec_other')},v1=${hex(now)}` }, body)).statusCode, 200)
  t.equal((await post(app, { 'stripe-signature': `t=${now},v1=${hex(now, 'whsec_other')},v1=${hex(now, 'whsec_third')}` }, body)).statusCode, 401)
})

t.test('only v0 is refused, even when its value is a valid HMAC', async (t) => {
  const { app } = await hookApp(t, route)
  t.equal((await post(app, { 'stripe-signature': `t=${now},v0=${hex(now)}` }, body)).statusCode, 401)
  t.equal((await post(app, { 'stripe-signature': `t=${now},v0=${hex(now)},v1=${hex(now)}` }, body)).statusCode, 200, 'v0 beside v1 is ignored')
})

t.test('a space after the comma, or any other malformed item, is refused', async (t) => {
  const { app } = await hookApp(t, route)
  for (const bad of [
    `t=${now}, v1=${hex(now)}`,
    `t=${now},,v1=${hex(now)}`,
    `t=${now},v1=${hex(now).toUpperCase()}`,
    `t=${now},v1=${hex(now).slice(2)}`,
    `t=${now},t=${now},v1=${hex(now)}`,
    `v1=${hex(now)}`,
    `t=1.6e9,v1=${hex(now)}`,
    `t=${now},v1=${hex(now)}=`,
    [`t=${now}`, ...Array(15).fill('v2=x'), `v1=${hex(now)}`].join(','),
    '',
  ]) {
    t.equal((await post(app, { 'stripe-signature': bad }, body)).statusCode, 401, bad.slice(0, 40))
  }
})

t.test('the header missing or sent twice is refused', async (t) => {
  const { app } = await hookApp(t, route)
  t.equal((await post(app, {}, body)).statusCode, 401)
  t.equal((await post(app, { 'stripe-signature': [header(), header()] }, body)).statusCode, 401)
})

t.test('the whole whsec_ string is the key; the previous secret passes while rotating', async (t) => {
  const { app } = await hookApp(t, { ...route, secrets: ['whsec_new', secret] })
  t.equal((await post(app, { 'stripe-signature': header() }, body)).statusCode, 200)
  t.equal((await post(app, { 'stripe-signature': header(now, body, 'whsec_new') }, body)).statusCode, 200)
  t.equal((await post(app, { 'stripe-signature': header(now, body, 'new') }, body)).statusCode, 401, 'without the prefix it is another key')
})
