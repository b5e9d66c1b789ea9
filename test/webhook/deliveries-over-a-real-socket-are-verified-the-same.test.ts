import { request } from 'node:http'
import t from 'tap'
import { signWebhook } from '../../index.js'
import { hookApp, SPEC } from './helpers.js'

// Over a real socket Node joins a repeated header in request.headers; the
// raw list still shows both, and the body bytes arrive in chunks.
function send (port: number, headers: Record<string, string | string[]>, body: string | Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/hook', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode as number, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

t.test('over HTTP: a valid delivery passes, a repeated header is refused, an oversize body gets 413', async (t) => {
  const { app, calls } = await hookApp(t, { scheme: 'standard', secrets: [SPEC.secret], bodyLimit: 1024, replay: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const headers = signWebhook({ scheme: 'standard', secret: SPEC.secret, body: SPEC.body, id: SPEC.id, timestamp: SPEC.timestamp })
  const ok = await send(port, headers, SPEC.body)
  t.equal(ok.status, 200)
  t.same(JSON.parse(ok.body).body, { test: 2432232314 })
  const twice = await send(port, { ...headers, 'webhook-signature': [headers['webhook-signature'], 'v1,bogus'] }, SPEC.body)
  t.equal(twice.status, 401)
  const big = JSON.stringify({ pad: 'x'.repeat(4096) })
  const large = await send(port, signWebhook({ scheme: 'standard', secret: SPEC.secret, body: big, id: SPEC.id, timestamp: SPEC.timestamp }), big)
  t.equal(large.status, 413)
  t.equal(JSON.parse(large.body).code, 'FST_RAMPART_WEBHOOK_TOO_LARGE')
  t.equal(calls(), 1)
})
