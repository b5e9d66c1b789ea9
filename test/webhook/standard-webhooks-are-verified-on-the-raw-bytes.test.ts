import { createHmac, generateKeyPairSync, sign } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { Webhook as SvixWebhook } from 'svix'
import t from 'tap'
import { captureLogs } from '../helpers.js'
import { hookApp, INVALID, post, SPEC, SPEC_NOW } from './helpers.js'

const route = { scheme: 'standard', secrets: [SPEC.secret], replay: false } as const
const specHeaders = { 'webhook-id': SPEC.id, 'webhook-timestamp': String(SPEC.timestamp), 'webhook-signature': SPEC.signature }

/** A v1 signature over any id and timestamp text, computed apart from the plugin (the libraries only take a Date). */
function v1 (secret: string, id: string, timestamp: string, body: string | Buffer): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64')
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')}`
}

/** Headers signed by the standardwebhooks reference library. */
function signed (secret: string, id: string, timestampSec: number, body: string): Record<string, string> {
  return { 'webhook-id': id, 'webhook-timestamp': String(timestampSec), 'webhook-signature': new Webhook(secret).sign(id, new Date(timestampSec * 1000), body) }
}

t.test('the spec vector passes with the clock pinned, and the handler gets the parsed body, the raw bytes and the delivery', async (t) => {
  t.equal(new Webhook(SPEC.secret).sign(SPEC.id, new Date(SPEC_NOW), SPEC.body), SPEC.signature, 'the reference library agrees with the vector')
  const { app, calls } = await hookApp(t, route)
  const res = await post(app, specHeaders, SPEC.body)
  t.equal(res.statusCode, 200)
  t.same(res.json(), {
    body: { test: 2432232314 },
    raw: Buffer.from(SPEC.body).toString('base64'),
    webhook: { scheme: 'standard', id: SPEC.id, timestamp: SPEC.timestamp },
  })
  t.equal(calls(), 1)
})

t.test('the same body minified is refused with 401 and no detail, before the handler runs', async (t) => {
  const { app, calls } = await hookApp(t, route)
  const res = await post(app, specHeaders, '{"test":2432232314}')
  t.equal(res.statusCode, 401)
  t.same(res.json(), INVALID)
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  t.equal(calls(), 0)
})

t.test('the previous secret still passes while rotating; a stranger\'s does not', async (t) => {
  const current = 'whsec_' + Buffer.from('a new secret of twenty-four b').toString('base64')
  const { app } = await hookApp(t, { ...route, secrets: [current, SPEC.secret] })
  t.equal((await post(app, specHeaders, SPEC.body)).statusCode, 200)
  t.equal((await post(app, signed(current, SPEC.id, SPEC.timestamp, SPEC.body), SPEC.body)).statusCode, 200)
  const stranger = 'whsec_' + Buffer.from('somebody else entirely!!').toString('base64')
  t.equal((await post(app, signed(stranger, SPEC.id, SPEC.timestamp, SPEC.body), SPEC.body)).statusCode, 401)
})

t.test('unknown versions are skipped: alone they are refused, beside a good v1 it passes', async (t) => {
  const { app } = await hookApp(t, route)
  const unknown = 'v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1b,abc nocomma'
  t.equal((await post(app, { ...specHeaders, 'webhook-signature': unknown }, SPEC.body)).statusCode, 401)
  t.equal((await post(app, { ...specHeaders, 'webhook-signature': `${unknown} ${SPEC.signature}` }, SPEC.body)).statusCode, 200)
})

t.test('several v1 signatures: any one matching passes', async (t) => {
  const { app } = await hookApp(t, route)
  const other = v1('whsec_' + Buffer.from('another secret entirely!').toString('base64'), SPEC.id, String(SPEC.timestamp), SPEC.body)
  t.equal((await post(app, { ...specHeaders, 'webhook-signature': `${other} ${SPEC.signature}` }, SPEC.body)).statusCode, 200)
})

t.test('a signature of the wrong length or bad base64 is a refusal, never an exception', async (t) => {
  const { app } = await hookApp(t, route)
  for (const bad of ['v1,g0hM9SsE', 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE', 'v1,!0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=', 'v1,', 'v1a,' + 'A'.repeat(86) + '==', '']) {
    const res = await post(app, { ...specHeaders, 'webhook-signature': bad }, SPEC.body)
    t.equal(res.statusCode, 401, bad)
    t.same(res.json(), INVALID)
  }
})

t.test('more than 16 signatures are refused outright', async (t) => {
  const { app } = await hookApp(t, route)
  const many = [...Array(16).fill('v2,x'), SPEC.signature].join(' ')
  t.equal((await post(app, { ...specHeaders, 'webhook-signature': many }, SPEC.body)).statusCode, 401)
})

t.test('timestamps within the tolerance pass, both ways; one second beyond is refused, both ways', async (t) => {
  const { app } = await hookApp(t, route)
  const at = (offset: number) => post(app, signed(SPEC.secret, SPEC.id, SPEC.timestamp + offset, SPEC.body), SPEC.body)
  t.equal((await at(-299)).statusCode, 200, '-299 s')
  t.equal((await at(-300)).statusCode, 200, '-300 s')
  t.equal((await at(300)).statusCode, 200, '+300 s')
  t.equal((await at(-301)).statusCode, 401, '-301 s')
  t.equal((await at(301)).statusCode, 401, '+301 s')
})

t.test('a route tolerance replaces the default', async (t) => {
  const { app } = await hookApp(t, { ...route, tolerance: '10s' })
  const at = (offset: number) => post(app, signed(SPEC.secret, SPEC.id, SPEC.timestamp + offset, SPEC.body), SPEC.body)
  t.equal((await at(10)).statusCode, 200)
  t.equal((await at(-11)).statusCode, 401)
})

t.test('malformed timestamps are refused even when signed as sent', async (t) => {
  const { app } = await hookApp(t, route)
  for (const timestamp of ['1614265330abc', '1.6e9', '-1', '', ' 1614265330', '01614265330', '+1614265330']) {
    const headers = { 'webhook-id': SPEC.id, 'webhook-timestamp': timestamp, 'webhook-signature': v1(SPEC.secret, SPEC.id, timestamp, SPEC.body) }
    t.equal((await post(app, headers, SPEC.body)).statusCode, 401, JSON.stringify(timestamp))
  }
})

t.test('each header missing, or sent twice, is refused', async (t) => {
  const { app } = await hookApp(t, route)
  for (const name of Object.keys(specHeaders) as (keyof typeof specHeaders)[]) {
    const missing: Record<string, string | string[]> = { ...specHeaders }
    delete missing[name]
    t.equal((await post(app, missing, SPEC.body)).statusCode, 401, `${name} missing`)
    t.equal((await post(app, { ...specHeaders, [name]: [specHeaders[name], specHeaders[name]] }, SPEC.body)).statusCode, 401, `${name} twice`)
  }
})

t.test('an id containing "." is refused, even when signed', async (t) => {
  const { app } = await hookApp(t, route)
  const id = 'msg_a.b'
  const headers = { 'webhook-id': id, 'webhook-timestamp': String(SPEC.timestamp), 'webhook-signature': v1(SPEC.secret, id, String(SPEC.timestamp), SPEC.body) }
  t.equal((await post(app, headers, SPEC.body)).statusCode, 401)
  const longId = 'm'.repeat(257)
  t.equal((await post(app, { ...headers, 'webhook-id': longId, 'webhook-signature': v1(SPEC.secret, longId, String(SPEC.timestamp), SPEC.body) }, SPEC.body)).statusCode, 401)
})

t.test("Svix's svix-* header names verify too, signed by the svix library", async (t) => {
  const { app } = await hookApp(t, route)
  const signature = new SvixWebhook(SPEC.secret).sign(SPEC.id, new Date(SPEC_NOW), SPEC.body)
  const res = await post(app, { 'svix-id': SPEC.id, 'svix-timestamp': String(SPEC.timestamp), 'svix-signature': signature }, SPEC.body)
  t.equal(res.statusCode, 200)
  t.same(res.json().webhook, { scheme: 'standard', id: SPEC.id, timestamp: SPEC.timestamp })
  // Mixed families are not a delivery.
  t.equal((await post(app, { 'webhook-id': SPEC.id, 'svix-timestamp': String(SPEC.timestamp), 'svix-signature': signature }, SPEC.body)).statusCode, 401)
})

t.test('v1a Ed25519 signatures verify against the public keys', async (t) => {
  const pair = generateKeyPairSync('ed25519')
  const other = generateKeyPairSync('ed25519')
  const whpk = (key: typeof pair.publicKey) => `whpk_${Buffer.from(key.export({ format: 'jwk' }).x as string, 'base64url').toString('base64')}`
  const v1a = (key: typeof pair.privateKey) => `v1a,${sign(null, Buffer.from(`${SPEC.id}.${SPEC.timestamp}.${SPEC.body}`), key).toString('base64')}`
  const { app } = await hookApp(t, { scheme: 'standard', publicKeys: [whpk(other.publicKey), whpk(pair.publicKey)], replay: false })
  const headers = { 'webhook-id': SPEC.id, 'webhook-timestamp': String(SPEC.timestamp) }
  t.equal((await post(app, { ...headers, 'webhook-signature': v1a(pair.privateKey) }, SPEC.body)).statusCode, 200)
  t.equal((await post(app, { ...headers, 'webhook-signature': `${v1a(generateKeyPairSync('ed25519').privateKey)} ${v1a(other.privateKey)}` }, SPEC.body)).statusCode, 200, 'second of two')
  t.equal((await post(app, { ...headers, 'webhook-signature': v1a(generateKeyPairSync('ed25519').privateKey) }, SPEC.body)).statusCode, 401, 'unknown key')
  t.equal((await post(app, { ...headers, 'webhook-signature': SPEC.signature }, SPEC.body)).statusCode, 401, 'no secrets: v1 cannot match')
  t.equal((await post(app, { ...headers, 'webhook-signature': v1a(pair.privateKey) }, '{"test":2432232314}')).statusCode, 401, 'other body')
})

t.test('the reason for a refusal is logged once per 10 s, without the signature or secret', async (t) => {
  const logs = captureLogs()
  const { app } = await hookApp(t, route, { logs: logs.stream })
  await post(app, specHeaders, '{"test":2432232314}')
  await post(app, { ...specHeaders, 'webhook-signature': [SPEC.signature, SPEC.signature] }, SPEC.body)
  const refusals = logs.lines.filter((line) => line.msg === 'fastify-rampart: webhook refused')
  t.equal(refusals.length, 1)
  t.match(refusals[0], { level: 40, route: 'POST /hook', scheme: 'standard', reason: 'no signature matched', suppressed: 0 })
  const text = JSON.stringify(logs.lines)
  t.notOk(text.includes(SPEC.signature.slice(3)), 'no signature in the logs')
  t.notOk(text.includes(SPEC.secret.slice(6)), 'no secret in the logs')
})
