import t from 'tap'
import { authorizeAny, headersPlugin, securityPlugin } from '../../index.js'
import { Pki } from '../mtls-pki.js'
import { signWebhook } from '../../plugins/webhook/sign.js'
import { caught, makeApp } from '../helpers.js'
import { AUDIENCE, fakeClock, ISSUER, makeKey, sign } from '../jwt/helpers.js'

t.test('with jwt and the rate limit: the IP bucket runs before any signature check, the token bucket after it', async (t) => {
  const clock = fakeClock()
  const key = await makeKey('ES256')
  const app = makeApp(t)
  await app.register(securityPlugin, {
    rateLimit: { limit: 3, window: '1m', now: clock.now, principal: 'jwt', buckets: {} },
    jwt: { issuers: [{ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], keys: { keys: [key.jwk] } }], now: clock.now },
  })
  app.get('/me', async (request) => ({ subject: request.auth?.subject }))
  const forged = `${(await sign(key, { clock })).slice(0, -4)}AAAA`
  const codes: number[] = []
  for (let i = 0; i < 5; i++) codes.push((await app.inject({ url: '/me', headers: { authorization: `Bearer ${forged}` } })).statusCode)
  t.same(codes, [401, 401, 401, 429, 429], 'forged tokens are limited by IP')
  const limited = await app.inject({ url: '/me', headers: { authorization: `Bearer ${await sign(key, { clock })}` } })
  t.equal(limited.statusCode, 429, 'past the IP limit even a valid token is not verified')
  t.equal(limited.headers['www-authenticate'], undefined)
})

t.test("rateLimit.principal 'jwt' keys a bucket by the token's issuer and subject", async (t) => {
  const clock = fakeClock()
  const key = await makeKey('ES256')
  const app = makeApp(t)
  await app.register(securityPlugin, {
    rateLimit: { limit: 100, window: '1m', now: clock.now, principal: 'jwt' },
    jwt: { issuers: [{ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], keys: { keys: [key.jwk] } }], now: clock.now },
  })
  app.get('/me', { config: { security: { rateLimit: { limit: 2, window: '1m' } } } }, async (request) => ({ subject: request.auth?.subject }))
  const alice = await sign(key, { clock, claims: { sub: 'alice' } })
  const bob = await sign(key, { clock, claims: { sub: 'bob' } })
  const as = async (token: string, ip: string) => (await app.inject({ url: '/me', remoteAddress: ip, headers: { authorization: `Bearer ${token}` } })).statusCode
  // Alice from two addresses shares one token bucket; Bob has his own.
  t.same([await as(alice, '192.0.2.1'), await as(alice, '192.0.2.2'), await as(alice, '192.0.2.3'), await as(bob, '192.0.2.4')], [200, 200, 429, 200])
})

t.test('webhook is registered by default: routes opt in with config.security.webhook', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  const secret = `whsec_${Buffer.from('a secret of thirty-two bytes!!!!').toString('base64')}`
  app.post('/hook', { config: { security: { webhook: { scheme: 'standard', secrets: [secret] } } } }, async (request) => ({ id: request.webhook?.id }))
  const body = '{"ok":true}'
  const good = await app.inject({ method: 'POST', url: '/hook', payload: body, headers: { 'content-type': 'application/json', ...signWebhook({ scheme: 'standard', secret, body, id: 'msg_1' }) } })
  t.equal(good.statusCode, 200)
  t.same(good.json(), { id: 'msg_1' })
  const bad = await app.inject({ method: 'POST', url: '/hook', payload: body, headers: { 'content-type': 'application/json' } })
  t.equal(bad.statusCode, 401)
  t.equal(bad.json().code, 'FST_RAMPART_WEBHOOK_INVALID')
})

t.test('jwt and mtls are off until configured: their route keys are refused, and webhook: false turns webhooks off', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false, webhook: false })
  for (const security of [{ jwt: { scopes: ['a'] } }, { mtls: { authorize: () => true } }, { webhook: { scheme: 'github', secrets: ['s'] } }]) {
    t.throws(() => app.get(`/${Object.keys(security)[0]}`, { config: { security } as never }, async () => 'x'), { code: 'FST_RAMPART_INVALID_ROUTE_CONFIG' })
  }
})

t.test('securityPlugin lists the jwt, webhook and mtls option problems with the others', async (t) => {
  const app = makeApp(t)
  const err = await caught(async () => {
    await app.register(securityPlugin, { headers: { hsts: { maxAge: 'x' } }, jwt: { issuers: 'x' }, webhook: { tolerance: 'soon' }, mtls: { authorize: 1 } } as never)
  })
  t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
  for (const key of ['headers.hsts.maxAge', 'jwt.issuers', 'webhook.tolerance', 'mtls.authorize']) {
    t.ok(err.problems?.some((p) => p.startsWith(key)), key)
  }
})

t.test('mtls through securityPlugin: a plain-HTTP request has no client certificate and gets 401', async (t) => {
  const pki = new Pki()
  t.teardown(() => pki.remove())
  const root = pki.root('wiring-root', 'example.org')
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false, mtls: { authorize: authorizeAny(), trustBundles: { 'example.org': root.cert } } })
  app.get('/internal', async () => 'secret')
  app.get('/open', { config: { security: { mtls: false } } }, async () => 'open')
  const res = await app.inject('/internal')
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'FST_RAMPART_MTLS_REQUIRED')
  t.equal((await app.inject('/open')).statusCode, 200)
})

t.test('headersPlugin alone refuses a route config that is neither false nor an object', async (t) => {
  const app = makeApp(t)
  await app.register(headersPlugin)
  const err = await caught(() => app.get('/x', { config: { security: { headers: 42 } } as never }, async () => 'x'))
  t.equal(err.code, 'FST_RAMPART_INVALID_ROUTE_CONFIG')
  t.same(err.problems, ['config.security.headers: must be false or an object (got number)'])
})
