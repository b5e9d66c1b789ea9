import t from 'tap'
import { captureLogs, makeApp } from '../helpers.js'
import jwtPlugin from '../../plugins/jwt/plugin.js'
import { AUDIENCE, bearer, fakeClock, ISSUER, jwtApp, jwksServer, makeKey, sign } from './helpers.js'

const rsa = await makeKey('RS256', 'k1')
const next = await makeKey('RS256', 'k2')
const JWKS = { cacheMaxAge: '1h', cooldown: '30s', timeout: '5s', maxStale: '24h' }

async function status (app: Awaited<ReturnType<typeof jwtApp>>, token: string): Promise<number> {
  return (await app.inject({ url: '/', headers: bearer(token) })).statusCode
}

function issuer (url: string) {
  return [{ issuer: ISSUER, audience: AUDIENCE, jwksUri: url }]
}

t.test('100 random kids within one cooldown cost at most one fetch, concurrent misses share it', async (t) => {
  const clock = fakeClock()
  const jwks = await jwksServer(t, [rsa.jwk])
  const app = await jwtApp(t, { issuers: issuer(jwks.url), now: clock.now, jwks: JWKS })
  t.equal(await status(app, await sign(rsa, { clock })), 200)
  t.equal(jwks.fetches, 1)
  const forged = await Promise.all(Array.from({ length: 100 }, (_, i) => sign(next, { clock, header: { kid: `random-${i}` } })))
  const codes = await Promise.all(forged.map((token) => status(app, token)))
  t.same(new Set(codes), new Set([401]))
  t.equal(jwks.fetches, 1, 'no refetch inside the cooldown')
  clock.advance(30_000)
  const later = await Promise.all(forged.map((token) => status(app, token)))
  t.same(new Set(later), new Set([401]))
  t.equal(jwks.fetches, 2, 'one shared refetch once the cooldown passed')
})

t.test('a cold start shares one fetch between concurrent requests', async (t) => {
  const clock = fakeClock()
  const jwks = await jwksServer(t, [rsa.jwk])
  const app = await jwtApp(t, { issuers: issuer(jwks.url), now: clock.now })
  const token = await sign(rsa, { clock })
  t.same(await Promise.all([1, 2, 3].map(() => status(app, token))), [200, 200, 200])
  t.equal(jwks.fetches, 1)
})

t.test('key rotation: a new kid is accepted after the cooldown, the old one until it is removed', async (t) => {
  const clock = fakeClock()
  const jwks = await jwksServer(t, [rsa.jwk])
  const app = await jwtApp(t, { issuers: issuer(jwks.url), now: clock.now, jwks: JWKS })
  const old = await sign(rsa, { clock, claims: { exp: clock.seconds() + 20_000 } })
  t.equal(await status(app, old), 200)
  jwks.state.keys = [rsa.jwk, next.jwk]
  const fresh = await sign(next, { clock, claims: { exp: clock.seconds() + 20_000 } })
  t.equal(await status(app, fresh), 401, 'inside the cooldown: unknown key')
  clock.advance(30_000)
  t.equal(await status(app, fresh), 200, 'refetched once the cooldown passed')
  t.equal(await status(app, old), 200, 'the old key still verifies')
  jwks.state.keys = [next.jwk]
  clock.advance(3_600_001)
  t.equal(await status(app, old), 200, 'a stale set verifies while the refresh runs behind the request')
  await new Promise((resolve) => setTimeout(resolve, 50))
  for (let i = 0; i < 50 && jwks.fetches < 3; i++) await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(jwks.fetches, 3)
  t.equal(await status(app, old), 401, 'removed: the cached verification is dropped with the key set')
  t.equal(await status(app, await sign(rsa, { clock, claims: { exp: clock.seconds() + 20_000 } })), 401)
  t.equal(await status(app, fresh), 200)
})

for (const [name, fault] of [
  ['a 302', (s: Awaited<ReturnType<typeof jwksServer>>) => { s.state.status = 302; s.state.location = 'http://127.0.0.1:1/' }],
  ['a 500', (s: Awaited<ReturnType<typeof jwksServer>>) => { s.state.status = 500 }],
  ['a slow answer', (s: Awaited<ReturnType<typeof jwksServer>>) => { s.state.delayMs = 5_000 }],
  ['a server that is down', async (s: Awaited<ReturnType<typeof jwksServer>>) => { await s.stop() }],
] as const) {
  t.test(`${name} after a first fetch: stale keys keep working up to maxStale, then 503`, async (t) => {
    const clock = fakeClock()
    const logs = captureLogs()
    const jwks = await jwksServer(t, [rsa.jwk])
    const app = makeApp(t, { logger: { level: 'warn', stream: logs.stream } })
    await app.register(jwtPlugin, { issuers: issuer(jwks.url), now: clock.now, cache: false, jwks: { ...JWKS, timeout: '1s', maxStale: '2h' } })
    app.get('/', async () => 'ok')
    const token = () => sign(rsa, { clock })
    t.equal(await status(app, await token()), 200)
    await fault(jwks)
    clock.advance(3_600_001)
    t.equal(await status(app, await token()), 200, 'stale, refreshing behind')
    for (let i = 0; i < 100 && logs.lines.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
    t.match(logs.lines[0], { msg: 'fastify-rampart: could not fetch the JWKS; keys fetched before stay in use up to jwks.maxStale', jwksUri: jwks.url, hasKeys: true })
    clock.advance(7_199_999)
    t.equal(await status(app, await token()), 200, 'at the end of maxStale')
    clock.advance(1)
    const res = await app.inject({ url: '/', headers: bearer(await token()) })
    t.equal(res.statusCode, 503)
    t.same(res.json(), {
      statusCode: 503,
      code: 'FST_RAMPART_JWKS_UNAVAILABLE',
      error: 'Service Unavailable',
      message: `Token keys temporarily unavailable, retry in ${res.headers['retry-after']} seconds`,
    })
    t.ok(Number(res.headers['retry-after']) >= 1 && Number(res.headers['retry-after']) <= 30)
    t.equal(res.headers['www-authenticate'], undefined, 'not the token’s fault: no challenge')
    // An unknown kid while the IdP is down is not the client's fault either.
    clock.advance(-7_000_000)
    // jwks.fetches stays put: inside the cooldown of the last attempt.
    t.equal(await status(app, await sign(next, { clock })), 503)
  })
}

t.test('no key set at all: 503 with Retry-After, then recovery once the IdP answers after the cooldown', async (t) => {
  const clock = fakeClock()
  const jwks = await jwksServer(t, [rsa.jwk])
  jwks.state.status = 500
  const app = await jwtApp(t, { issuers: issuer(jwks.url), now: clock.now, jwks: JWKS })
  const token = await sign(rsa, { clock })
  const first = await app.inject({ url: '/', headers: bearer(token) })
  t.same([first.statusCode, first.headers['retry-after']], [503, '30'])
  clock.advance(10_000)
  const second = await app.inject({ url: '/', headers: bearer(token) })
  t.same([second.statusCode, second.headers['retry-after']], [503, '20'])
  t.equal(jwks.fetches, 1, 'no fetch inside the cooldown')
  jwks.state.status = 200
  jwks.state.keys = 'not a list' as never
  clock.advance(20_000)
  t.equal(await status(app, token), 503, 'a malformed set is a failure')
  jwks.state.keys = [rsa.jwk]
  clock.advance(30_000)
  t.equal(await status(app, token), 200)
  t.equal(jwks.fetches, 3)
})

t.test('cached verifications stop at maxStale too: then 503', async (t) => {
  const clock = fakeClock()
  const jwks = await jwksServer(t, [rsa.jwk])
  const app = await jwtApp(t, { issuers: issuer(jwks.url), now: clock.now, jwks: { ...JWKS, maxStale: '1h' } })
  const token = await sign(rsa, { clock, claims: { exp: clock.seconds() + 20_000 } })
  t.equal(await status(app, token), 200)
  // The first verification saw the set arrive (a new generation), so the second is cached, the third a hit.
  t.equal(await status(app, token), 200)
  t.equal(await status(app, token), 200, 'cached, the set fresh')
  await jwks.stop()
  clock.advance(3_600_001)
  t.equal(await status(app, token), 200, 'cached, the set stale but usable')
  clock.advance(3_600_000)
  t.equal(await status(app, token), 503)
})
