import { X509Certificate } from 'node:crypto'
import { copyFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:tls'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { authorizeAny, authorizeID, mtlsPlugin, mtlsServerOptions } from '../../index.js'
import { captureLogs, caught, makeApp } from '../helpers.js'
import { type Answer, call, type Issued } from '../mtls-pki.js'
import { API_ID, CHECKOUT_ID, makeWorld, REQUIRED, serve } from '../mtls-world.js'

// openssl makes the certificates for this file; a loaded machine needs more than the default 30 s.
t.setTimeout(180_000)

/** Polls (bounded) until `check` holds: the watcher reloads on its own schedule. */
async function until (what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return
    await sleep(25)
  }
  throw new Error(`gave up waiting for ${what}`)
}

/** The fingerprint of the certificate the server presents on a new connection. */
function presented (port: number, ca: string, client: Issued, protocol?: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, cert: client.chain, key: client.key }, () => {
      protocol?.push(String(socket.getProtocol()))
      resolve(socket.getPeerCertificate().fingerprint256)
      socket.end()
    })
    socket.on('error', reject)
  })
}

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256

/** Requests on new connections, one after the other, until stopped. */
function keepConnecting (port: number, ca: string, client: Issued): { stop: () => Promise<Answer[]> } {
  const answers: Answer[] = []
  const state = { running: true }
  const loop = (async () => {
    while (state.running) answers.push(await call(port, { ca, client }))
  })()
  return {
    async stop () {
      state.running = false
      await loop
      return answers
    },
  }
}

t.test('the server SVID and the bundle rotate while a client keeps connecting', async (t) => {
  const world = makeWorld('rotate')
  t.teardown(() => world.pki.remove())
  const logs = captureLogs()
  const { port } = await serve(t, world, {
    lenient: true,
    server: { logger: { level: 'info', stream: logs.stream } },
    plugin: { authorize: authorizeAny(), watch: true, watchDebounceMs: 20 },
  })
  const ca = world.root.cert
  const checkout = world.client('checkout', CHECKOUT_ID)
  const background = keepConnecting(port, ca, checkout)

  // A new server SVID (new key) from the same intermediate.
  const next = world.pki.leaf('rotate-server-2', world.int, { uris: [API_ID], dns: ['localhost'], ips: ['127.0.0.1'] })
  t.equal(await presented(port, ca, checkout), fingerprint(world.server.cert))
  copyFileSync(next.keyPath, world.files.key)
  writeFileSync(world.files.cert, next.chain)
  await until('the new server certificate', async () => (await presented(port, ca, checkout)) === fingerprint(next.cert))

  // The trust domain rolls to a new CA: the bundle holds both while clients move over.
  const root2 = world.pki.root('rotate-root-2', 'example.org')
  const moved = world.pki.leaf('rotate-moved', root2, { uris: [CHECKOUT_ID] })
  t.same(await call(port, { ca, client: moved }), { status: 401, body: REQUIRED })
  writeFileSync(world.files.bundle, world.root.cert + root2.cert)
  await until('the new bundle', async () => (await call(port, { ca, client: moved })).status === 200)
  t.same(await call(port, { ca, client: moved }), { status: 200, body: { id: CHECKOUT_ID, xfcc: null } })

  const answers = await background.stop()
  t.ok(answers.length > 0)
  t.same([...new Set(answers.map((a) => a.status))], [200], 'no request failed during the rotation')
  t.ok(logs.lines.some((l) => l.msg === 'fastify-rampart: mTLS certificate files reloaded' && l.level === 30))
})

t.test('new files that do not load keep the running context and log an error', async (t) => {
  const world = makeWorld('broken')
  t.teardown(() => world.pki.remove())
  const logs = captureLogs()
  const { port } = await serve(t, world, {
    server: { logger: { level: 'info', stream: logs.stream } },
    plugin: { authorize: authorizeAny(), watch: true, watchDebounceMs: 20 },
  })
  const ca = world.root.cert
  const checkout = world.client('checkout', CHECKOUT_ID)
  const errors = () => logs.lines.filter((l) => l.msg === 'fastify-rampart: mTLS certificate files could not be reloaded; keeping the current ones')

  // A key that does not match the certificate.
  const stray = world.pki.leaf('broken-stray', world.int, { uris: [API_ID] })
  copyFileSync(stray.keyPath, world.files.key)
  await until('the key mismatch error', () => errors().length === 1)
  t.match(errors()[0], { level: 50, err: { message: /key values mismatch/ }, files: world.files })
  t.equal(await presented(port, ca, checkout), fingerprint(world.server.cert))
  t.same(await call(port, { ca, client: checkout }), { status: 200, body: { id: CHECKOUT_ID, xfcc: null } })

  // A bundle that does not parse.
  copyFileSync(world.server.keyPath, world.files.key)
  writeFileSync(world.files.bundle, 'not a bundle')
  await until('the bundle error', () => errors().length === 2)
  t.match(errors()[1], { err: { message: 'contains no PEM certificate' } })
  t.same(await call(port, { ca, client: checkout }), { status: 200, body: { id: CHECKOUT_ID, xfcc: null } })

  // A file that vanished.
  writeFileSync(world.files.bundle, world.root.cert)
  world.pki.remove()
  await until('the missing file error', () => errors().length === 3)
  t.match(errors()[2], { err: { message: /ENOENT/ } })
  t.notOk(logs.lines.some((l) => JSON.stringify(l).includes('BEGIN')), 'no certificate or key in the logs')
})

t.test('without files.bundle only the certificate and key are reloaded', async (t) => {
  const world = makeWorld('nobundle')
  t.teardown(() => world.pki.remove())
  const { port } = await serve(t, world, {
    trustBundles: { 'example.org': world.root.cert },
    https: { maxVersion: 'TLSv1.2' },
    plugin: { authorize: authorizeID(CHECKOUT_ID), watch: true, watchDebounceMs: 0, files: { cert: world.files.cert, key: world.files.key } },
  })
  const ca = world.root.cert
  const checkout = world.client('checkout', CHECKOUT_ID)
  const next = world.pki.leaf('nobundle-server-2', world.int, { uris: [API_ID], dns: ['localhost'], ips: ['127.0.0.1'] })
  writeFileSync(world.files.key, next.key)
  writeFileSync(world.files.cert, next.chain)
  await until('the new server certificate', async () => (await presented(port, ca, checkout)) === fingerprint(next.cert))
  t.same(await call(port, { ca, client: checkout }), { status: 200, body: { id: CHECKOUT_ID, xfcc: null } })
  const protocols: string[] = []
  await presented(port, ca, checkout, protocols)
  t.same(protocols, ['TLSv1.2'], 'the server keeps its own TLS settings across reloads')
})

t.test('watch needs an HTTPS server', async (t) => {
  const world = makeWorld('plainhttp')
  t.teardown(() => world.pki.remove())
  const app = makeApp(t)
  const err = await caught(() => app.register(mtlsPlugin, { authorize: authorizeAny(), files: world.files, watch: true }).ready())
  t.same(err.problems, ['mtls.watch: the server is not HTTPS (create Fastify with https: mtlsServerOptions(...))'])
  const https = makeApp(t, { https: mtlsServerOptions(world.files) } as never)
  await https.register(mtlsPlugin, { authorize: authorizeAny(), files: world.files, watch: true })
  await https.ready()
})
