import t from 'tap'
import { authorizeID } from '../../index.js'
import { forwardedId, parseXfcc } from '../../plugins/mtls/xfcc.js'
import { call } from '../mtls-pki.js'
import { CHECKOUT_ID, ENVOY_ID, FORBIDDEN, makeWorld, OTHER_ID, REQUIRED, serve } from '../mtls-world.js'

// openssl makes the certificates for this file; a loaded machine needs more than the default 30 s.
t.setTimeout(180_000)

t.test('an XFCC value splits into elements and pairs, honouring quotes', async (t) => {
  t.same(parseXfcc('By=spiffe://a/b;Hash=abc;Subject="CN=a;b,c";URI=spiffe://x/y,URI=spiffe://x/z'), [
    [['By', 'spiffe://a/b'], ['Hash', 'abc'], ['Subject', 'CN=a;b,c'], ['URI', 'spiffe://x/y']],
    [['URI', 'spiffe://x/z']],
  ])
  t.same(parseXfcc('Subject="a \\"quoted\\" \\\\ name";URI='), [[['Subject', 'a "quoted" \\ name'], ['URI', '']]])
  t.same(parseXfcc('URI=spiffe://x/y, URI=spiffe://x/z'), [[['URI', 'spiffe://x/y']], [['URI', 'spiffe://x/z']]])
})

t.test('a malformed XFCC value is refused', async (t) => {
  for (const value of ['', 'URI', 'URI=a;', '=a', 'U"RI=a', 'Subject="open', 'Subject="a"b', 'URI=a"b', 'URI=a,', 'Subject="a\\']) {
    t.equal(parseXfcc(value), undefined, value)
    t.equal(forwardedId(value), 'x-forwarded-client-cert is malformed', value)
  }
})

t.test('the forwarded ID is the one URI of the last element', async (t) => {
  t.equal(String(forwardedId(`URI=${OTHER_ID},By=${ENVOY_ID};URI="${CHECKOUT_ID}"`)), CHECKOUT_ID)
  t.equal(forwardedId(`URI=${CHECKOUT_ID},Hash=abc`), 'x-forwarded-client-cert must name exactly one URI (got 0)')
  t.equal(forwardedId(`URI=${CHECKOUT_ID};uri=${OTHER_ID}`), 'x-forwarded-client-cert must name exactly one URI (got 2)')
  t.equal(forwardedId('URI=spiffe://Example.org/a'), 'the forwarded URI is not a valid SPIFFE ID: trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores')
  t.equal(forwardedId('URI=spiffe://example.org'), 'a forwarded SPIFFE ID must have a path')
})

t.test('behind a trusted proxy', async (t) => {
  const world = makeWorld('xfcc')
  t.teardown(() => world.pki.remove())
  const ca = world.root.cert
  const envoy = world.client('envoy', ENVOY_ID)
  const checkout = world.client('checkout', CHECKOUT_ID)
  const other = world.client('other', OTHER_ID)
  const { port } = await serve(t, world, {
    plugin: { authorize: authorizeID(CHECKOUT_ID), forwardedClientCert: { proxies: [ENVOY_ID] } },
    routes: (app) => app.get('/open', { config: { security: { mtls: false } } }, async (request) => ({ xfcc: request.headers['x-forwarded-client-cert'] ?? null })),
  })
  const xfcc = (value: string) => ({ 'x-forwarded-client-cert': value })

  t.test('on a direct connection the header is ignored and stripped', async (t) => {
    t.same(await call(port, { ca, client: checkout, headers: xfcc(`URI=${OTHER_ID}`) }), { status: 200, body: { id: CHECKOUT_ID, xfcc: null } })
    t.same(await call(port, { ca, client: other, headers: xfcc(`URI=${CHECKOUT_ID}`) }), { status: 403, body: FORBIDDEN })
    t.same(await call(port, { ca, client: other, path: '/open', headers: xfcc(`URI=${CHECKOUT_ID}`) }), { status: 200, body: { xfcc: null } })
  })

  t.test('from the trusted proxy the forwarded ID is authorized', async (t) => {
    const value = `By=${ENVOY_ID};Hash=abc;Subject="CN=a;b,c";URI=${CHECKOUT_ID}`
    t.same(await call(port, { ca, client: envoy, headers: xfcc(value) }), { status: 200, body: { id: CHECKOUT_ID, xfcc: value } })
    t.same(await call(port, { ca, client: envoy, headers: xfcc(`URI=${OTHER_ID}`) }), { status: 403, body: FORBIDDEN })
    t.same(await call(port, { ca, client: envoy, path: '/open', headers: xfcc(value) }), { status: 200, body: { xfcc: null } }, 'not on a route with mtls: false')
  })

  t.test('with two elements only the last counts', async (t) => {
    t.same(await call(port, { ca, client: envoy, headers: xfcc(`URI=${OTHER_ID},URI=${CHECKOUT_ID}`) }), { status: 200, body: { id: CHECKOUT_ID, xfcc: `URI=${OTHER_ID},URI=${CHECKOUT_ID}` } })
    t.same(await call(port, { ca, client: envoy, headers: xfcc(`URI=${CHECKOUT_ID},URI=${OTHER_ID}`) }), { status: 403, body: FORBIDDEN })
  })

  t.test('two URIs, a malformed value or a root ID are refused', async (t) => {
    for (const value of [`URI=${CHECKOUT_ID};URI=${OTHER_ID}`, 'Subject="CN=a;URI=x', 'URI=spiffe://example.org', `Hash=abc;DNS=${CHECKOUT_ID}`]) {
      t.same(await call(port, { ca, client: envoy, headers: xfcc(value) }), { status: 403, body: FORBIDDEN }, value)
    }
  })

  t.test('the proxy without the header is not the client: 401', async (t) => {
    t.same(await call(port, { ca, client: envoy }), { status: 401, body: REQUIRED })
  })
})
