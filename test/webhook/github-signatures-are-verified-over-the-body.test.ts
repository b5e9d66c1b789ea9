import { createHash } from 'node:crypto'
import { sign } from '@octokit/webhooks-methods'
import t from 'tap'
import { hookApp, INVALID, post } from './helpers.js'

// GitHub's documented example (docs.github.com, "Validating webhook deliveries").
const secret = "It's a Secret to Everybody"
const body = 'Hello, World!'
const signature = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17'
const route = { scheme: 'github', secrets: [secret], replay: false } as const

t.test("GitHub's documented example passes; @octokit/webhooks-methods signs the same", async (t) => {
  t.equal(await sign(secret, body), signature)
  const { app } = await hookApp(t, route)
  const res = await post(app, { 'x-hub-signature-256': signature }, body, 'text/plain')
  t.equal(res.statusCode, 200)
  t.same(res.json(), {
    body,
    raw: Buffer.from(body).toString('base64'),
    webhook: { scheme: 'github', id: createHash('sha256').update(body).digest('hex') },
  })
})

t.test('uppercase hex is refused', async (t) => {
  const { app } = await hookApp(t, route)
  const res = await post(app, { 'x-hub-signature-256': `sha256=${signature.slice(7).toUpperCase()}` }, body, 'text/plain')
  t.equal(res.statusCode, 401)
  t.same(res.json(), INVALID)
})

t.test('the SHA-1 X-Hub-Signature alone is refused; beside a good SHA-256 it is ignored', async (t) => {
  const { app } = await hookApp(t, route)
  const sha1 = 'sha1=' + createHash('sha1').update(body).digest('hex')
  t.equal((await post(app, { 'x-hub-signature': sha1 }, body, 'text/plain')).statusCode, 401)
  t.equal((await post(app, { 'x-hub-signature': sha1, 'x-hub-signature-256': signature }, body, 'text/plain')).statusCode, 200)
})

t.test('a malformed, repeated or wrong signature is refused', async (t) => {
  const { app } = await hookApp(t, route)
  for (const bad of [signature.slice(0, -1), signature + '0', signature.replace('sha256=', 'sha256:'), `sha256=${'0'.repeat(64)}`, '']) {
    t.equal((await post(app, { 'x-hub-signature-256': bad }, body, 'text/plain')).statusCode, 401, bad)
  }
  t.equal((await post(app, { 'x-hub-signature-256': [signature, signature] }, body, 'text/plain')).statusCode, 401, 'twice')
  t.equal((await post(app, { 'x-hub-signature-256': signature }, 'Hello, World?', 'text/plain')).statusCode, 401, 'other body')
})

t.test('the previous secret passes while rotating', async (t) => {
  const { app } = await hookApp(t, { ...route, secrets: ['the new secret', secret] })
  t.equal((await post(app, { 'x-hub-signature-256': signature }, body, 'text/plain')).statusCode, 200)
  t.equal((await post(app, { 'x-hub-signature-256': await sign('the new secret', body) }, body, 'text/plain')).statusCode, 200)
})
