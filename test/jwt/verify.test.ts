import t from 'tap'
import { normaliseTyp, reasonFor } from '../../plugins/jwt/verify.js'
import { scopesOf } from '../../plugins/jwt/scopes.js'
import { bearer, fakeClock, jwtApp, localIssuer, makeKey, sign } from './helpers.js'

t.test('every jose failure maps to a short reason that names no token content', async (t) => {
  t.equal(reasonFor({ code: 'ERR_JWT_INVALID' }), 'malformed token')
  t.equal(reasonFor({ code: 'ERR_JWS_INVALID' }), 'malformed token')
  t.equal(reasonFor({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'jti', reason: 'check_failed' }), 'invalid jti claim')
  t.equal(reasonFor({ code: 'ERR_JWT_EXPIRED', claim: 'exp' }), 'expired')
  t.equal(reasonFor(new TypeError('short key')), 'key not accepted')
  t.equal(reasonFor(new Error('anything else')), 'invalid token')
})

t.test('typ values and scope claims are read leniently where the RFCs allow', async (t) => {
  t.equal(normaliseTyp('Application/AT+JWT'), 'at+jwt')
  t.same(scopesOf({ scope: ' a  b ' }), ['a', 'b'])
  t.same(scopesOf({ scp: ['a', 3, 'b'] }), ['a', 'b'])
  t.same(scopesOf({ scope: 5, scp: 'x' }), ['x'])
  t.same(scopesOf({}), [])
})

t.test('requiredClaims can drop exp: such a token then stays cached until evicted', async (t) => {
  const clock = fakeClock()
  const rsa = await makeKey('RS256')
  const app = await jwtApp(t, { issuers: [localIssuer(rsa)], now: clock.now, requiredClaims: ['iss', 'aud', 'sub'], maxTokenAge: false })
  const token = await sign(rsa, { clock, omit: ['exp'] })
  const res = await app.inject({ url: '/', headers: bearer(token) })
  t.equal(res.statusCode, 200)
  t.equal(res.json().auth.expiresAt, null, 'no exp: an invalid date, serialised as null')
})
