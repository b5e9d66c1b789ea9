import t from 'tap'
import jwtPlugin, { jwtPrincipal } from '../../plugins/jwt/plugin.js'
import { caught, makeApp } from '../helpers.js'
import { AUDIENCE, bearer, fakeClock, ISSUER, jwtApp, localIssuer, makeKey, sign } from './helpers.js'

const clock = fakeClock()
const rsa = await makeKey('RS256')
const other = await makeKey('ES256', 'other')
const OTHER = 'https://idp.example.org/'

async function status (app: Awaited<ReturnType<typeof jwtApp>>, url: string, token?: string): Promise<number> {
  return (await app.inject({ url, headers: token === undefined ? {} : bearer(token) })).statusCode
}

t.test('route config: false is public, scopes all required, anyScope one of, scp read too', async (t) => {
  const app = await jwtApp(t, { issuers: [localIssuer(rsa)], now: clock.now }, (app) => {
    app.get('/public', { config: { security: { jwt: false } } }, async (request) => ({ auth: request.auth }))
    app.get('/all', { config: { security: { jwt: { scopes: ['a', 'b'] } } } }, async () => 'ok')
    app.get('/any', { config: { security: { jwt: { anyScope: ['a', 'c'] } } } }, async () => 'ok')
    app.get('/both', { config: { security: { jwt: { scopes: ['a'], anyScope: ['b', 'c'] } } } }, async () => 'ok')
    app.get('/none', { config: { security: { jwt: {} } } }, async () => 'ok')
  })
  const public_ = await app.inject('/public')
  t.same([public_.statusCode, public_.json()], [200, { auth: null }])
  const ab = await sign(rsa, { clock, claims: { scope: 'a b' } })
  const a = await sign(rsa, { clock, claims: { scp: ['a'] } })
  const c = await sign(rsa, { clock, claims: { scp: 'c d' } })
  const none = await sign(rsa, { clock })
  t.same(await Promise.all([ab, a, c, none].map((tk) => status(app, '/all', tk))), [200, 403, 403, 403])
  t.same(await Promise.all([ab, a, c, none].map((tk) => status(app, '/any', tk))), [200, 200, 200, 403])
  t.same(await Promise.all([ab, a, c, none].map((tk) => status(app, '/both', tk))), [200, 403, 403, 403])
  t.same(await Promise.all([ab, none].map((tk) => status(app, '/none', tk))), [200, 200])
  t.equal(await status(app, '/none'), 401)
  const anyRes = await app.inject({ url: '/any', headers: bearer(none) })
  t.equal(anyRes.headers['www-authenticate'], 'Bearer realm="api", error="insufficient_scope", scope="a c"')
})

t.test('optional: no token is anonymous, a bad token still 401', async (t) => {
  const app = await jwtApp(t, { issuers: [localIssuer(rsa)], now: clock.now }, (app) => {
    app.get('/maybe', { config: { security: { jwt: { optional: true } } } }, async (request) => ({ auth: request.auth, principal: jwtPrincipal(request) ?? null }))
  })
  const anon = await app.inject('/maybe')
  t.same([anon.statusCode, anon.json()], [200, { auth: null, principal: null }])
  t.equal(await status(app, '/maybe', await sign(rsa, { clock, claims: { aud: 'x' } })), 401)
  t.equal((await app.inject({ url: '/maybe', headers: { authorization: 'Bearer' } })).statusCode, 400)
  const ok = await app.inject({ url: '/maybe', headers: bearer(await sign(rsa, { clock, claims: { sub: 'u9' } })) })
  t.same(ok.json().principal, `${ISSUER} u9`)
})

t.test('issuers: a route accepts a subset, checked on cache hits too', async (t) => {
  const app = await jwtApp(
    t,
    { issuers: [localIssuer(rsa), { issuer: OTHER, audience: AUDIENCE, keys: { keys: [other.jwk] } }], now: clock.now },
    (app) => {
      app.get('/first', { config: { security: { jwt: { issuers: [ISSUER] } } } }, async () => 'ok')
    }
  )
  const mine = await sign(rsa, { clock })
  const theirs = await sign(other, { clock, claims: { iss: OTHER } })
  t.equal(await status(app, '/', theirs), 200, 'cached from the catch-all route')
  t.equal(await status(app, '/first', theirs), 401)
  const res = await app.inject({ url: '/first', headers: bearer(await sign(other, { clock, claims: { iss: OTHER, jti: 'fresh' } })) })
  t.equal(res.headers['www-authenticate'], 'Bearer realm="api", error="invalid_token", error_description="issuer not accepted here"')
  t.equal(await status(app, '/first', mine), 200)
})

t.test('route config is validated when the route is added', async (t) => {
  const app = makeApp(t)
  await app.register(jwtPlugin, { issuers: [localIssuer(rsa)], now: clock.now })
  const cases: [unknown, string[]][] = [
    [true, ['config.security.jwt: must be false or an object (got boolean)']],
    [{ scope: ['a'] }, ['config.security.jwt.scope: is not a known option']],
    [{ scopes: ['a b'] }, ['config.security.jwt.scopes[0]: must be a scope token (printable ASCII, no space, " or \\) (got string)']],
    [{ issuers: ['https://nope.example/'] }, ['config.security.jwt.issuers: "https://nope.example/" is not one of the plugin\'s issuers']],
    [{ optional: 'yes' }, ['config.security.jwt.optional: must be boolean (got string)']],
  ]
  for (const [jwt, problems] of cases) {
    const err = await caught(() => app.get('/x', { config: { security: { jwt: jwt as never } } }, async () => 'ok'))
    t.equal(err.code, 'FST_RAMPART_INVALID_ROUTE_CONFIG')
    t.same(err.problems, problems)
  }
})

t.test('jwtPrincipal is undefined before or without authentication', async (t) => {
  t.equal(jwtPrincipal({} as never), undefined)
  t.equal(jwtPrincipal({ auth: null } as never), undefined)
})
