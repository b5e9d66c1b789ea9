import t from 'tap'
import jwtPlugin from '../../plugins/jwt/plugin.js'
import { captureLogs, caught, makeApp } from '../helpers.js'
import { AUDIENCE, ISSUER, localIssuer, makeKey } from './helpers.js'

const rsa = await makeKey('RS256')
const SECRET = 'a-first-party-secret-of-32-bytes!'

async function problems (options: unknown): Promise<string[] | undefined> {
  const app = makeApp(t)
  const err = await caught(() => app.register(jwtPlugin, options as never).ready())
  t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
  return err.problems
}

t.test('options are checked at register, every problem listed', async (t) => {
  t.same(await problems({}), ['jwt.issuers: is required'])
  t.same(await problems({ issuers: [] }), ['jwt.issuers: must not have fewer than 1 items'])
  t.same(await problems({ issuers: [{ issuer: '', audience: [] }], clockTolerance: '30 seconds', cache: 3, realm: 'a"b', bogus: 1 }), [
    'jwt.issuers[0].issuer: must be a non-empty string (got string)',
    'jwt.issuers[0].audience: must not have fewer than 1 items',
    "jwt.clockTolerance: must be integer or a duration like '30s', '5m', '1h', '1d' (got string)",
    'jwt.cache: must be false or an object (got number)',
    'jwt.realm: must be printable ASCII without " or \\ (got string)',
    'jwt.bogus: is not a known option',
  ])
})

t.test('unsafe issuer settings are refused', async (t) => {
  const base = { issuer: ISSUER, audience: AUDIENCE }
  t.same(await problems({ issuers: [base] }), ['jwt.issuers[0]: needs exactly one of jwksUri, keys or secret (got 0)'])
  t.same(await problems({ issuers: [{ ...base, jwksUri: 'https://a.example/jwks', secret: SECRET }] }), [
    'jwt.issuers[0]: needs exactly one of jwksUri, keys or secret (got 2)',
  ])
  t.same(await problems({ issuers: [{ ...base, secret: SECRET, algorithms: ['HS512', 'RS256'] }] }), [
    'jwt.issuers[0].algorithms: RS256 needs a key set, not a secret',
  ])
  t.same(await problems({ issuers: [{ ...base, jwksUri: 'http://auth.example.com/jwks' }] }), ['jwt.issuers[0].jwksUri: must be https (http only for loopback hosts)'])
  t.same(await problems({ issuers: [{ ...base, jwksUri: 'not a url' }] }), ['jwt.issuers[0].jwksUri: must be an absolute URL'])
  t.same(await problems({ issuers: [{ ...base, jwksUri: 'https://a.example/jwks', algorithms: ['HS256', 'none', 'XS1'] }] }), [
    'jwt.issuers[0].algorithms: HS256 needs a secret; a JWKS public key must never verify an HMAC (algorithm confusion)',
    "jwt.issuers[0].algorithms: 'none' is never accepted",
    'jwt.issuers[0].algorithms: XS1 is not a supported algorithm',
  ])
  t.same(await problems({ issuers: [{ ...base, secret: 'short' }] }), ['jwt.issuers[0].secret: must be at least 32 bytes'])
  t.same(await problems({ issuers: [{ ...base, keys: { keys: [{ ...rsa.jwk, d: 'x' }, { kty: 'oct', k: 'abc' }] } }] }), [
    'jwt.issuers[0].keys.keys[0]: must be a public key (no "d", no kty "oct")',
    'jwt.issuers[0].keys.keys[1]: must be a public key (no "d", no kty "oct")',
  ])
  t.same(await problems({ issuers: [{ ...base, keys: { keys: [5] } }] }), ['jwt.issuers[0].keys.keys[0]: must be an object (got number)'])
  t.same(await problems({ issuers: [localIssuer(rsa), localIssuer(rsa)] }), ['jwt.issuers[1].issuer: is listed twice'])
})

t.test('loopback http JWKS URLs are allowed, for tests and local IdPs', async (t) => {
  for (const host of ['127.0.0.1:8080', 'localhost', '[::1]:9000']) {
    const app = makeApp(t)
    await app.register(jwtPlugin, { issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwksUri: `http://${host}/jwks` }] })
    t.ok(app.hasRequestDecorator('auth'), host)
  }
})

t.test('typ: false logs a warning (RFC 8725 §3.11)', async (t) => {
  const logs = captureLogs()
  const app = makeApp(t, { logger: { level: 'warn', stream: logs.stream } })
  await app.register(jwtPlugin, { issuers: [localIssuer(rsa)], typ: false })
  await app.ready()
  t.match(logs.lines, [{ level: 40, msg: /typ is false: an ID token can pass as an access token/ }])
})
