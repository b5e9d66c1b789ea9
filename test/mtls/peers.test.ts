import t from 'tap'
import { authorizeAny, authorizeID, authorizeMemberOf, authorizeOneOf } from '../../index.js'
import { call } from '../mtls-pki.js'
import { CHECKOUT_ID, FORBIDDEN, makeWorld, OTHER_ID, REQUIRED, serve } from '../mtls-world.js'

// openssl makes a few dozen certificates for this file; a loaded machine needs more than the default 30 s.
t.setTimeout(180_000)
const world = makeWorld('peers')
const { pki, root, int } = world
t.teardown(() => pki.remove())
const ca = root.cert
const checkout = world.client('checkout', CHECKOUT_ID)
const other = world.client('other', OTHER_ID)

t.test('a strict server refuses the handshake of a client without a certificate', async (t) => {
  const { port } = await serve(t, world, { plugin: { authorize: authorizeAny() } })
  const answer = await call(port, { ca })
  t.type(answer.error, 'string')
  t.equal(answer.status, undefined)
  t.same(await call(port, { ca, client: checkout }), { status: 200, body: { id: CHECKOUT_ID, xfcc: null } })
})

t.test('a lenient server answers 401 to a client without a certificate, untrusted or expired', async (t) => {
  const { port } = await serve(t, world, { lenient: true, plugin: { authorize: authorizeAny() } })
  const stranger = pki.root('stranger-root', 'example.org')
  const expired = pki.leaf('expired', int, { uris: [CHECKOUT_ID], days: -1 })
  t.same(await call(port, { ca }), { status: 401, body: REQUIRED })
  t.same(await call(port, { ca, client: pki.leaf('stranger', stranger, { uris: [CHECKOUT_ID] }) }), { status: 401, body: REQUIRED })
  t.same(await call(port, { ca, client: expired }), { status: 401, body: REQUIRED })
  t.same(await call(port, { ca, client: checkout }), { status: 200, body: { id: CHECKOUT_ID, xfcc: null } })
})

t.test('authorizeID lets the same ID in and refuses another with 403', async (t) => {
  const { port } = await serve(t, world, { plugin: { authorize: authorizeID(CHECKOUT_ID) } })
  t.same(await call(port, { ca, client: checkout }), { status: 200, body: { id: CHECKOUT_ID, xfcc: null } })
  t.same(await call(port, { ca, client: other }), { status: 403, body: FORBIDDEN })
})

t.test('authorizeMemberOf takes example.org and refuses example.org.evil and evil.org', async (t) => {
  const evilRoot = pki.root('evil-root', 'example.org.evil')
  const evilOrgRoot = pki.root('evil-org-root', 'evil.org')
  const { port } = await serve(t, world, {
    trustBundles: { 'example.org.evil': evilRoot.cert, 'evil.org': evilOrgRoot.cert },
    plugin: { authorize: authorizeMemberOf('example.org') },
  })
  t.same(await call(port, { ca, client: checkout }), { status: 200, body: { id: CHECKOUT_ID, xfcc: null } })
  t.same(await call(port, { ca, client: pki.leaf('evil', evilRoot, { uris: ['spiffe://example.org.evil/ns/prod/sa/checkout'] }) }), { status: 403, body: FORBIDDEN })
  t.same(await call(port, { ca, client: pki.leaf('evil-org', evilOrgRoot, { uris: ['spiffe://evil.org/ns/prod/sa/checkout'] }) }), { status: 403, body: FORBIDDEN })
})

t.test('authorizeOneOf refuses an ID not on its list', async (t) => {
  const { port } = await serve(t, world, { plugin: { authorize: authorizeOneOf(OTHER_ID, 'spiffe://example.org/ns/prod/sa/billing') } })
  t.same(await call(port, { ca, client: checkout }), { status: 403, body: FORBIDDEN })
  t.same(await call(port, { ca, client: other }), { status: 200, body: { id: OTHER_ID, xfcc: null } })
})

t.test('a certificate that is not a leaf X509-SVID is refused with 403', async (t) => {
  const { port } = await serve(t, world, { plugin: { authorize: authorizeAny() } })
  const cases = {
    'two URI SANs': pki.leaf('two-uris', int, { uris: [CHECKOUT_ID, OTHER_ID] }),
    'a SPIFFE and an https URI SAN': pki.leaf('mixed-uris', int, { uris: [CHECKOUT_ID, 'https://example.org/'] }),
    'no URI SAN': pki.leaf('no-uri', int, { dns: ['checkout.example.org'] }),
    'no SAN at all': pki.leaf('no-san', int),
    'a CA certificate as the leaf': pki.leaf('ca-leaf', int, { uris: [CHECKOUT_ID], ca: true, keyUsage: 'keyCertSign,cRLSign,digitalSignature' }),
    'the trust domain root ID as the leaf ID': pki.leaf('root-id', int, { uris: ['spiffe://example.org'] }),
    'a DNS SAN with embedded URI: text and no URI SAN': pki.leaf('embedded', int, { dns: ['b, URI:spiffe://example.org/ns/prod/sa/checkout'] }),
  }
  for (const [name, client] of Object.entries(cases)) {
    t.same(await call(port, { ca, client }), { status: 403, body: FORBIDDEN }, name)
  }
})

t.test('a DNS SAN with embedded URI: text never becomes the identity', async (t) => {
  const adminRoot = pki.root('admin-root', 'admin.org')
  const { port } = await serve(t, world, {
    trustBundles: { 'admin.org': adminRoot.cert },
    plugin: { authorize: authorizeID('spiffe://admin.org/ops') },
    routes: (app) => app.get('/any', { config: { security: { mtls: { authorize: authorizeAny() } } } }, async (request) => ({ id: String(request.spiffeId) })),
  })
  const client = pki.leaf('embedded-real', int, { uris: [CHECKOUT_ID], dns: ['b, URI:spiffe://admin.org/ops'] })
  t.same(await call(port, { ca, client }), { status: 403, body: FORBIDDEN })
  t.same(await call(port, { ca, client, path: '/any' }), { status: 200, body: { id: CHECKOUT_ID } })
})

t.test('a CA of another trust domain cannot mint IDs of this one', async (t) => {
  const bRoot = pki.root('b-root', 'b.org')
  // Given to the plugin only: it puts b.org's bundle into the server's TLS context itself.
  const { port } = await serve(t, world, { trustBundles: { 'b.org': bRoot.cert }, pluginOnlyBundles: true, plugin: { authorize: authorizeAny() } })
  t.same(await call(port, { ca, client: pki.leaf('minted', bRoot, { uris: [CHECKOUT_ID] }) }), { status: 403, body: FORBIDDEN })
  const bOrg = pki.leaf('b-own', bRoot, { uris: ['spiffe://b.org/ns/prod/sa/reporter'] })
  t.same(await call(port, { ca, client: bOrg }), { status: 200, body: { id: 'spiffe://b.org/ns/prod/sa/reporter', xfcc: null } })
  // A trust domain with no bundle at all is refused too.
  t.same(await call(port, { ca, client: pki.leaf('unknown-td', int, { uris: ['spiffe://c.org/ns/a'] }) }), { status: 403, body: FORBIDDEN })
})

t.test('every invalid SPIFFE ID form in the URI SAN is refused with 403', async (t) => {
  const { port } = await serve(t, world, { plugin: { authorize: authorizeAny() } })
  const forms = [
    'SPIFFE://example.org/ns/a',
    'spiffe://Example.org/ns/a',
    'spiffe://example.org:8443/ns/a',
    'spiffe://user@example.org/ns/a',
    'spiffe://ex%61mple.org/ns/a',
    'spiffe://example.org/ns/a/',
    'spiffe://example.org/ns//a',
    'spiffe://example.org/ns/./a',
    'spiffe://example.org/ns/../a',
    'spiffe://example.org/ns/a?x=1',
    'spiffe://example.org/ns/a\\#frag',
    'spiffe://example.org/ns/%61',
    `spiffe://example.org/${'a'.repeat(2048)}`,
  ]
  let i = 0
  for (const uri of forms) {
    const client = pki.leaf(`invalid-${i++}`, int, { uris: [uri] })
    t.same(await call(port, { ca, client }), { status: 403, body: FORBIDDEN }, uri)
  }
})
