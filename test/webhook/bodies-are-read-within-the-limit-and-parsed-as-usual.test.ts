import { createHmac } from 'node:crypto'
import { Readable } from 'node:stream'
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { signWebhook, webhookPlugin } from '../../index.js'
import { makeApp } from '../helpers.js'
import { hookApp, post, SPEC, SPEC_NOW } from './helpers.js'

const route = { scheme: 'standard', secrets: [SPEC.secret], replay: false } as const
const TOO_LARGE = { statusCode: 413, code: 'FST_RAMPART_WEBHOOK_TOO_LARGE', error: 'Payload Too Large', message: 'Webhook body is too large' }

function headersFor (body: string | Buffer): Record<string, string> {
  return signWebhook({ scheme: 'standard', secret: SPEC.secret, body, id: SPEC.id, timestamp: SPEC.timestamp })
}

t.test('a body at the limit is verified; one byte over gets 413 before any signature check', async (t) => {
  const { app, calls } = await hookApp(t, { ...route, bodyLimit: 20 })
  t.equal(Buffer.byteLength(SPEC.body), 20)
  t.equal((await post(app, headersFor(SPEC.body), SPEC.body)).statusCode, 200)
  const over = SPEC.body + ' '
  const res = await post(app, headersFor(over), over)
  t.equal(res.statusCode, 413)
  t.same(res.json(), TOO_LARGE)
  t.equal((await post(app, {}, over)).statusCode, 413, 'unsigned: the size is checked first')
  t.equal(calls(), 1)
})

t.test('a body without Content-Length is counted as it arrives', async (t) => {
  const { app } = await hookApp(t, { ...route, bodyLimit: 20 })
  const streamed = (body: string) => app.inject({
    method: 'POST',
    url: '/hook',
    headers: { 'content-type': 'application/json', ...headersFor(body) },
    payload: Readable.from([Buffer.from(body.slice(0, 5)), Buffer.from(body.slice(5))]),
  })
  const ok = await streamed(SPEC.body)
  t.equal(ok.statusCode, 200)
  t.same(ok.json().body, { test: 2432232314 })
  t.same((await streamed(SPEC.body + '  ')).json(), TOO_LARGE)
})

t.test('the plugin-wide bodyLimit applies, and Fastify\'s own parser accepts what the route does', async (t) => {
  const { app } = await hookApp(t, route, { options: { bodyLimit: 2 * 1024 * 1024 } })
  const big = JSON.stringify({ pad: 'x'.repeat(1.5 * 1024 * 1024) })
  const res = await post(app, headersFor(big), big)
  t.equal(res.statusCode, 200, 'over Fastify\'s default 1 MiB, under the webhook limit')
  t.equal(res.json().body.pad.length, 1.5 * 1024 * 1024)
})

t.test('form-encoded bodies verify and reach the handler parsed', async (t) => {
  const { app } = await hookApp(t, route)
  const form = 'event=paid&name=%C3%A9l%C3%A9onore&amount=10'
  const headers = { 'webhook-id': SPEC.id, 'webhook-timestamp': String(SPEC.timestamp), 'webhook-signature': new Webhook(SPEC.secret).sign(SPEC.id, new Date(SPEC_NOW), form) }
  const res = await post(app, headers, form, 'application/x-www-form-urlencoded')
  t.equal(res.statusCode, 200)
  t.same(res.json().body, { event: 'paid', name: 'éléonore', amount: '10' })
  t.equal(Buffer.from(res.json().raw, 'base64').toString(), form)
})

t.test('non-UTF-8 bodies are signed and verified byte for byte', async (t) => {
  const { app } = await hookApp(t, route)
  const binary = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28])
  const exact = `v1,${createHmac('sha256', Buffer.from(SPEC.secret.slice(6), 'base64')).update(`${SPEC.id}.${SPEC.timestamp}.`).update(binary).digest('base64')}`
  const headers = { 'webhook-id': SPEC.id, 'webhook-timestamp': String(SPEC.timestamp) }
  const res = await post(app, { ...headers, 'webhook-signature': exact }, binary, 'application/octet-stream')
  t.equal(res.statusCode, 200)
  t.same(res.json(), { body: binary.toString('base64'), raw: binary.toString('base64'), webhook: { scheme: 'standard', id: SPEC.id, timestamp: SPEC.timestamp } })
  // standardwebhooks signs a UTF-8 decoding of the bytes: that is a different body.
  const decoded = new Webhook(SPEC.secret).sign(SPEC.id, new Date(SPEC_NOW), binary)
  t.not(decoded, exact)
  t.equal((await post(app, { ...headers, 'webhook-signature': decoded }, binary, 'application/octet-stream')).statusCode, 401)
})

t.test('an empty body verifies too', async (t) => {
  const { app } = await hookApp(t, route)
  const res = await post(app, headersFor(''), '', 'text/plain')
  t.equal(res.statusCode, 200)
  t.same(res.json(), { body: '', raw: '', webhook: { scheme: 'standard', id: SPEC.id, timestamp: SPEC.timestamp } })
})

t.test('a verified body that does not parse gets Fastify\'s usual 400, not a 500', async (t) => {
  const { app, calls } = await hookApp(t, route)
  const res = await post(app, headersFor('{"test":'), '{"test":')
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'FST_ERR_CTP_INVALID_JSON_BODY')
  t.equal(calls(), 0)
})

t.test('a body stream that fails mid-way is a 400', async (t) => {
  const app = makeApp(t)
  await app.register(webhookPlugin, { now: () => SPEC_NOW })
  app.addHook('preParsing', async () => new Readable({
    read () {
      this.destroy(new Error('client went away'))
    },
  }))
  app.post('/hook', { config: { security: { webhook: { ...route, secrets: [SPEC.secret] } } } }, async () => 'ran')
  const res = await post(app, headersFor(SPEC.body), SPEC.body)
  t.equal(res.statusCode, 400)
})

t.test('routes without config.security.webhook, or with false, are untouched', async (t) => {
  const app = makeApp(t)
  await app.register(webhookPlugin)
  const seen = (request: { rawBody?: Buffer; webhook?: unknown; body: unknown }) => ({ rawBody: request.rawBody ?? null, webhook: request.webhook ?? null, body: request.body })
  app.post('/plain', async (request) => seen(request))
  app.post('/off', { config: { security: { webhook: false } } }, async (request) => seen(request))
  app.post('/other', { config: { security: { rateLimit: false } } }, async (request) => seen(request))
  for (const url of ['/plain', '/off', '/other']) {
    const res = await app.inject({ method: 'POST', url, payload: { a: 1 } })
    t.equal(res.statusCode, 200, url)
    t.same(res.json(), { rawBody: null, webhook: null, body: { a: 1 } })
    t.equal(app.hasRoute({ method: 'POST', url }), true)
  }
})
