import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import Fastify from 'fastify'
import { authorizeAny, authorizeID, mtlsPlugin, mtlsServerOptions, type MtlsOptions } from '../../index.js'
import { caught, captureLogs, makeApp } from '../helpers.js'
import { call } from '../mtls-pki.js'
import { CHECKOUT_ID, FORBIDDEN, makeWorld, REQUIRED, serve } from '../mtls-world.js'

// openssl makes the certificates for this file; a loaded machine needs more than the default 30 s.
t.setTimeout(180_000)
const world = makeWorld('options')
t.teardown(() => world.pki.remove())
const { files, root } = world

async function registerError (options: unknown, https = false) {
  const app = makeApp(t, https ? { https: mtlsServerOptions(files) } as never : {})
  return caught(() => app.register(mtlsPlugin, options as MtlsOptions).ready())
}

t.test('mtlsServerOptions requires a certificate from the bundle over TLS 1.2 or later', async (t) => {
  const options = mtlsServerOptions(files)
  t.same(options, { requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', cert: world.server.chain, key: world.server.key, ca: [root.cert] })
  const other = world.pki.root('other-root', 'b.org')
  t.same(mtlsServerOptions({ cert: files.cert, key: files.key, trustBundles: { 'b.org': other.cert } }).ca, [other.cert])
})

t.test('mtlsServerOptions lists every problem', async (t) => {
  const err = await caught(() => mtlsServerOptions({ cert: join(world.pki.dir, 'missing.pem'), key: files.key }))
  t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
  t.same(err.problems, ['mtlsServerOptions: give bundle (a file) or trustBundles (PEM per trust domain)', 'mtlsServerOptions.cert: cannot be read (ENOENT)'])
  const bad = await caught(() => mtlsServerOptions({ cert: '', key: files.key, bundle: files.bundle, extra: 1 } as never))
  t.same(bad.problems, ['mtlsServerOptions.cert: must be a file path (got string)', 'mtlsServerOptions.extra: is not a known option'])
})

t.test('authorize is required and must be a function', async (t) => {
  t.same((await registerError({ files })).problems, ['mtls.authorize: is required'])
  t.same((await registerError({ files, authorize: 'spiffe://example.org/a' })).problems, [
    'mtls.authorize: must be a function (id, chain) => boolean, e.g. authorizeID(...), authorizeMemberOf(...), authorizeAny() (got string)',
  ])
})

t.test('a plugin without any trust bundle is refused', async (t) => {
  const err = await registerError({ authorize: authorizeAny() })
  t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
  t.same(err.problems, ["mtls: give files.bundle or trustBundles: a peer is only trusted through its trust domain's bundle"])
  t.same((await registerError({ authorize: authorizeAny(), files: { cert: files.cert, key: files.key } })).problems, [
    "mtls: give files.bundle or trustBundles: a peer is only trusted through its trust domain's bundle",
  ])
})

t.test('files, bundles, proxies and watch are checked', async (t) => {
  const missing = join(world.pki.dir, 'missing.pem')
  const junk = join(world.pki.dir, 'junk.pem')
  writeFileSync(junk, 'not a certificate')
  t.same((await registerError({ authorize: authorizeAny(), files: { cert: missing, key: missing, bundle: missing } })).problems, [
    'mtls.files.cert: cannot be read (ENOENT)',
    'mtls.files.key: cannot be read (ENOENT)',
    'mtls.files.bundle: cannot be read (ENOENT)',
  ])
  t.same((await registerError({ authorize: authorizeAny(), files: { ...files, bundle: junk } })).problems, ['mtls.files.bundle: contains no PEM certificate'])
  t.same((await registerError({ authorize: authorizeAny(), files: { ...files, cert: junk } })).problems, [
    'mtls.trustDomain: is required when files.cert has no SPIFFE ID to take it from (the certificate does not parse)',
  ])
  const plain = world.pki.leaf('plain-server', world.int, { dns: ['localhost'] })
  t.same((await registerError({ authorize: authorizeAny(), files: { ...files, cert: plain.certPath } })).problems, [
    'mtls.trustDomain: is required when files.cert has no SPIFFE ID to take it from (the certificate has no URI SAN)',
  ])
  t.same(
    (await registerError({
      authorize: authorizeAny(),
      trustBundles: { 'b.org': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', 'B.org': root.cert },
      forwardedClientCert: { proxies: ['spiffe://example.org/edge/', CHECKOUT_ID] },
      watch: true,
    })).problems,
    [
      'mtls.trustBundles.B.org: is not a known option',
    ]
  )
  const many = await registerError({
    authorize: authorizeAny(),
    trustBundles: { 'b.org': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' },
    forwardedClientCert: { proxies: ['spiffe://example.org/edge/', CHECKOUT_ID] },
    watch: true,
  })
  t.equal(many.problems?.length, 4)
  t.match(many.problems?.[0], /^mtls\.trustBundles\.b\.org: /)
  t.same(many.problems?.slice(1), [
    'mtls.watch: needs files to watch',
    'mtls.watch: the server is not HTTPS (create Fastify with https: mtlsServerOptions(...))',
    'mtls.forwardedClientCert.proxies[0]: path cannot have a trailing slash',
  ])
})

t.test('files whose key does not match the certificate are refused when the plugin installs the bundles', async (t) => {
  const stray = world.pki.leaf('stray-key', world.int, { uris: [CHECKOUT_ID] })
  const err = await registerError({ authorize: authorizeAny(), files: { ...files, key: stray.keyPath }, trustBundles: { 'b.org': world.pki.root('b-root', 'b.org').cert } }, true)
  t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
  t.match(err.problems, [/^mtls\.files: the certificate and key do not load \(.*key values mismatch/])
})

t.test('roots for the own trust domain in trustBundles are trusted beside files.bundle', async (t) => {
  const extra = world.pki.root('extra-root', 'example.org')
  const { port } = await serve(t, world, { trustBundles: { 'example.org': extra.cert }, pluginOnlyBundles: true, plugin: { authorize: authorizeAny() } })
  t.same(await call(port, { ca: root.cert, client: world.client('checkout', CHECKOUT_ID) }), { status: 200, body: { id: CHECKOUT_ID, xfcc: null } })
  t.same(await call(port, { ca: root.cert, client: world.pki.leaf('extra-client', extra, { uris: [CHECKOUT_ID] }) }), { status: 200, body: { id: CHECKOUT_ID, xfcc: null } })
})

t.test('a server certificate without a SPIFFE ID leaves files.bundle to the TLS layer when trustBundles vouch for IDs', async (t) => {
  const plain = world.pki.leaf('plain-server-3', world.int, { dns: ['localhost'], ips: ['127.0.0.1'] })
  const cert = join(world.pki.dir, 'plain-chain-3.pem')
  writeFileSync(cert, plain.chain)
  const logs = captureLogs()
  const app = Fastify({ logger: { level: 'warn', stream: logs.stream }, https: mtlsServerOptions({ ...files, cert, key: plain.keyPath }) })
  t.teardown(() => app.close())
  await app.register(mtlsPlugin, { authorize: authorizeAny(), trustBundles: { 'b.org': world.pki.root('b-root-3', 'b.org').cert }, files: { ...files, cert, key: plain.keyPath } })
  app.get('/', async () => 'x')
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  t.match(logs.lines, [{ level: 40, msg: /cannot tell which trust domain files\.bundle belongs to/ }])
  t.same(await call(port, { ca: root.cert, client: world.client('checkout', CHECKOUT_ID) }), { status: 403, body: FORBIDDEN })
})

t.test('an explicit trustDomain names the trust domain of files.bundle', async (t) => {
  const plain = world.pki.leaf('plain-server-2', world.int, { dns: ['localhost'], ips: ['127.0.0.1'] })
  const cert = join(world.pki.dir, 'plain-chain.pem')
  writeFileSync(cert, plain.chain)
  const app = Fastify({ https: mtlsServerOptions({ ...files, cert, key: plain.keyPath }) })
  t.teardown(() => app.close())
  await app.register(mtlsPlugin, { authorize: authorizeAny(), trustDomain: 'example.org', files: { ...files, cert, key: plain.keyPath } })
  app.get('/', async (request) => ({ id: String(request.spiffeId) }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  t.same(await call(port, { ca: root.cert, client: world.client('checkout', CHECKOUT_ID) }), { status: 200, body: { id: CHECKOUT_ID } })
})

t.test('a route config that is not false or { authorize } fails at route add', async (t) => {
  const app = makeApp(t)
  await app.register(mtlsPlugin, { authorize: authorizeAny(), trustBundles: { 'example.org': root.cert } })
  const cases: [unknown, string[]][] = [
    [true, ['config.security.mtls: must be false or an object (got boolean)']],
    [{ authorize: 'x' }, ['config.security.mtls.authorize: must be a function (id, chain) => boolean, e.g. authorizeID(...), authorizeMemberOf(...), authorizeAny() (got string)']],
    [{ authorise: authorizeAny() }, ['config.security.mtls.authorise: is not a known option']],
  ]
  for (const [mtls, problems] of cases) {
    const err = await caught(() => app.get('/x', { config: { security: { mtls: mtls as never } } }, async () => 'x'))
    t.equal(err.code, 'FST_RAMPART_INVALID_ROUTE_CONFIG')
    t.same(err.problems, problems)
  }
})

t.test('without TLS every checked route answers 401 and a route with mtls: false is open', async (t) => {
  const app = makeApp(t)
  await app.register(mtlsPlugin, { authorize: authorizeAny(), trustBundles: { 'example.org': root.cert } })
  app.get('/checked', async () => 'checked')
  app.get('/open', { config: { security: { mtls: false } } }, async (request) => ({ id: request.spiffeId, xfcc: request.headers['x-forwarded-client-cert'] ?? null }))
  app.get('/own', { config: { security: { mtls: {} } } }, async () => 'own')
  const checked = await app.inject('/checked')
  t.equal(checked.statusCode, 401)
  t.same(checked.json(), REQUIRED)
  t.equal((await app.inject('/own')).statusCode, 401)
  t.equal((await app.inject('/missing')).statusCode, 401)
  const open = await app.inject({ url: '/open', headers: { 'x-forwarded-client-cert': `URI=${CHECKOUT_ID}` } })
  t.same(open.json(), { id: null, xfcc: null })
})

t.test('the plugin can be registered in two scopes', async (t) => {
  const app = makeApp(t)
  for (const prefix of ['/a', '/b']) {
    await app.register(async (scope) => {
      await scope.register(mtlsPlugin, { authorize: authorizeAny(), trustBundles: { 'example.org': root.cert } })
      scope.get('/', async () => 'x')
    }, { prefix })
  }
  t.equal((await app.inject('/a')).statusCode, 401)
  t.equal((await app.inject('/b')).statusCode, 401)
})

t.test('a refusal logs the peer ID and the reason, never the certificate; a throwing authorizer is a 403', async (t) => {
  const logs = captureLogs()
  const { port } = await serve(t, world, {
    server: { logger: { level: 'info', stream: logs.stream } },
    plugin: { authorize: authorizeID('spiffe://example.org/ns/prod/sa/billing') },
    routes: (app) => app.get('/throws', { config: { security: { mtls: { authorize: () => { throw new Error('boom') } } } } }, async () => 'x'),
  })
  const client = world.client('checkout', CHECKOUT_ID)
  t.same(await call(port, { ca: root.cert, client }), { status: 403, body: FORBIDDEN })
  t.same(await call(port, { ca: root.cert, client, path: '/throws' }), { status: 403, body: FORBIDDEN })
  const refused = logs.lines.filter((l) => l.msg === 'fastify-rampart: mTLS peer refused')
  t.equal(refused.length, 1, 'one line per 10 s')
  t.match(refused[0], { level: 40, spiffeId: CHECKOUT_ID, reason: 'refused by the authorizer', suppressed: 0 })
  const threw = logs.lines.filter((l) => l.msg === 'fastify-rampart: mTLS authorizer threw; refused')
  t.match(threw, [{ level: 50, spiffeId: CHECKOUT_ID, err: { message: 'boom' } }])
  t.notOk(logs.lines.some((l) => JSON.stringify(l).includes('BEGIN CERTIFICATE')))
})
