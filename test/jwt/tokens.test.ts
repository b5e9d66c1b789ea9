import { createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto'
import { SignJWT } from 'jose'
import t from 'tap'
import { AUDIENCE, bearer, fakeClock, ISSUER, jwtApp, jwksServer, localIssuer, makeKey, sign, signRs256, unsigned } from './helpers.js'

const clock = fakeClock()
const rsa = await makeKey('RS256')
const es = await makeKey('ES256')
const ed = await makeKey('EdDSA')

async function answer (app: Awaited<ReturnType<typeof jwtApp>>, token: string) {
  const res = await app.inject({ url: '/', headers: bearer(token) })
  return { status: res.statusCode, challenge: res.headers['www-authenticate'], body: res.json() }
}

function refused (reason: string) {
  return {
    status: 401,
    challenge: `Bearer realm="api", error="invalid_token", error_description="${reason}"`,
    body: { statusCode: 401, code: 'FST_RAMPART_INVALID_TOKEN', error: 'Unauthorized', message: `Invalid token: ${reason}` },
  }
}

t.test('valid RS256, ES256 and EdDSA tokens from a JWKS endpoint are accepted, with request.auth filled in', async (t) => {
  const jwks = await jwksServer(t, [rsa.jwk, es.jwk, ed.jwk])
  const app = await jwtApp(t, { issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwksUri: jwks.url }], now: clock.now })
  for (const key of [rsa, es, ed]) {
    const token = await sign(key, { clock, claims: { scope: 'read write', jti: 'j1' } })
    const res = await app.inject({ url: '/', headers: bearer(token) })
    t.equal(res.statusCode, 200, key.alg)
    t.same(res.json().auth, {
      subject: 'user-1',
      issuer: ISSUER,
      audience: [AUDIENCE],
      scopes: ['read', 'write'],
      claims: { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', iat: clock.seconds(), exp: clock.seconds() + 3600, jti: 'j1', scope: 'read write' },
      expiresAt: new Date((clock.seconds() + 3600) * 1000).toISOString(),
    })
  }
  t.equal(jwks.fetches, 1, 'one fetch for all three')
})

t.test('algorithm confusion and unsigned tokens are refused', async (t) => {
  const app = await jwtApp(t, { issuers: [localIssuer(rsa)], now: clock.now })
  // HS256 with the RSA public key (PEM) as the HMAC secret: the classic confusion attack.
  const pem = createPublicKey({ key: rsa.jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' })
  const iat = clock.seconds()
  const claims = { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', iat, exp: iat + 60 }
  const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: rsa.kid }).sign(Buffer.from(pem))
  t.same(await answer(app, hs), refused('algorithm not allowed'))
  t.same(await answer(app, unsigned({ alg: 'none', typ: 'at+jwt' }, claims)), refused('algorithm not allowed'))
  t.same(await answer(app, unsigned({ alg: 'RS256', typ: 'at+jwt' }, claims, 'c2ln')), refused('bad signature'))
  t.same(await answer(app, 'abc.def.ghi'), refused('malformed token'))
  t.same(await answer(app, unsigned({ alg: 'RS256' }, { aud: AUDIENCE })), refused('missing iss claim'))
})

t.test('an unknown crit header is refused', async (t) => {
  const app = await jwtApp(t, { issuers: [localIssuer(rsa)], now: clock.now })
  const iat = clock.seconds()
  const claims = { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', iat, exp: iat + 60 }
  const privateKey = KeyObject.from(rsa.privateKey)
  t.equal((await answer(app, signRs256(privateKey, { kid: rsa.kid }, claims))).status, 200, 'the same token without crit passes')
  t.same(await answer(app, signRs256(privateKey, { kid: rsa.kid, crit: ['exp-x'], 'exp-x': 1 }, claims)), refused('unsupported token header'))
})

t.test('typ: at+jwt by default, JWT refused; lists and false widen it', async (t) => {
  const strict = await jwtApp(t, { issuers: [localIssuer(rsa)], now: clock.now })
  t.same(await answer(strict, await sign(rsa, { clock, header: { typ: 'JWT' } })), refused('wrong token type'))
  t.same(await answer(strict, await sign(rsa, { clock, header: { typ: undefined } })), refused('wrong token type'))
  t.equal((await answer(strict, await sign(rsa, { clock, header: { typ: 'application/at+JWT' } }))).status, 200)

  const listed = await jwtApp(t, { issuers: [localIssuer(rsa)], typ: ['at+jwt', 'application/jwt'], now: clock.now })
  t.equal((await answer(listed, await sign(rsa, { clock, header: { typ: 'JWT' } }))).status, 200)
  t.same(await answer(listed, await sign(rsa, { clock, header: { typ: 'id+jwt' } })), refused('wrong token type'))

  const off = await jwtApp(t, { issuers: [localIssuer(rsa)], typ: false, now: clock.now })
  t.equal((await answer(off, await sign(rsa, { clock, header: { typ: undefined } }))).status, 200)
})

t.test('exp is required and checked around the clock tolerance; nbf too', async (t) => {
  const app = await jwtApp(t, { issuers: [localIssuer(rsa)], now: clock.now, cache: false })
  const now = clock.seconds()
  t.same(await answer(app, await sign(rsa, { clock, omit: ['exp'] })), refused('missing exp claim'))
  t.same(await answer(app, await sign(rsa, { clock, omit: ['sub'] })), refused('missing sub claim'))
  t.equal((await answer(app, await sign(rsa, { clock, claims: { exp: now - 29 } }))).status, 200, 'expired within the 30 s tolerance')
  t.same(await answer(app, await sign(rsa, { clock, claims: { exp: now - 31 } })), refused('expired'))
  t.equal((await answer(app, await sign(rsa, { clock, claims: { nbf: now + 29 } }))).status, 200, 'nbf within the tolerance')
  t.same(await answer(app, await sign(rsa, { clock, claims: { nbf: now + 31 } })), refused('not yet valid'))
  t.same(await answer(app, await sign(rsa, { clock, claims: { sub: 42 as never } })), refused('invalid sub claim'))
})

t.test('iat older than maxTokenAge is refused, iat is then required, and false turns it off', async (t) => {
  const app = await jwtApp(t, { issuers: [localIssuer(rsa)], maxTokenAge: '1h', now: clock.now })
  const now = clock.seconds()
  t.same(await answer(app, await sign(rsa, { clock, claims: { iat: now - 3700, exp: now + 60 } })), refused('too old'))
  t.same(await answer(app, await sign(rsa, { clock, omit: ['iat'] })), refused('missing iat claim'))
  t.equal((await answer(app, await sign(rsa, { clock, claims: { iat: now - 3500, exp: now + 60 } }))).status, 200)
  const off = await jwtApp(t, { issuers: [localIssuer(rsa)], maxTokenAge: false, now: clock.now })
  t.equal((await answer(off, await sign(rsa, { clock, omit: ['iat'] }))).status, 200)
  t.equal((await answer(off, await sign(rsa, { clock, claims: { iat: now - 90_000, exp: now + 60 } }))).status, 200)
})

t.test('iss must be one of the issuers exactly; aud must name ours', async (t) => {
  const jwks = await jwksServer(t, [rsa.jwk])
  const app = await jwtApp(t, { issuers: [{ issuer: ISSUER, audience: [AUDIENCE, 'https://other.example.com'], jwksUri: jwks.url }], now: clock.now })
  t.same(await answer(app, await sign(rsa, { clock, claims: { iss: 'https://auth.example.com' } })), refused('unknown issuer'))
  t.same(await answer(app, await sign(rsa, { clock, claims: { iss: 'https://evil.example/' } })), refused('unknown issuer'))
  t.equal(jwks.fetches, 0, 'an unknown issuer costs no network request')
  t.equal((await answer(app, await sign(rsa, { clock, claims: { aud: ['https://x.example', AUDIENCE] } }))).status, 200, 'a list containing ours')
  t.same(await answer(app, await sign(rsa, { clock, claims: { aud: 'https://x.example' } })), refused('wrong audience'))
  t.same(await answer(app, await sign(rsa, { clock, claims: { iat: clock.seconds() + 3600 } })), refused('issued in the future'))
})

t.test('several issuers: each token is checked against its own issuer only', async (t) => {
  const other = await makeKey('ES256', 'other')
  const app = await jwtApp(t, {
    issuers: [localIssuer(rsa), { issuer: 'https://idp.example.org/', audience: 'api-2', keys: { keys: [other.jwk] }, algorithms: ['ES256'] }],
    now: clock.now,
  })
  t.equal((await answer(app, await sign(other, { clock, claims: { iss: 'https://idp.example.org/', aud: 'api-2' } }))).status, 200)
  // The other issuer's key is not one of ours.
  t.same(await answer(app, await sign(other, { clock, claims: { aud: 'api-2' } })), refused('unknown key'))
  t.same(await answer(app, await sign(rsa, { clock, claims: { iss: 'https://idp.example.org/', aud: 'api-2' } })), refused('algorithm not allowed'))
})

t.test('key headers in the token (jku, x5u, jwk) are never used to find a key', async (t) => {
  const attacker = await makeKey('RS256', 'RS256-key')
  let contacted = 0
  const evil = await jwksServer(t, [attacker.jwk])
  const app = await jwtApp(t, { issuers: [localIssuer(rsa)], now: clock.now })
  const token = await sign(attacker, { clock, header: { jku: evil.url, x5u: evil.url, jwk: attacker.jwk } })
  t.same(await answer(app, token), refused('bad signature'))
  contacted += evil.fetches
  t.equal(contacted, 0)
})

t.test('an RSA key under 2048 bits is refused', async (t) => {
  // jose will not even make such a key: node:crypto does.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'weak', alg: 'RS256' }
  const jwks = await jwksServer(t, [jwk as never])
  const app = await jwtApp(t, { issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwksUri: jwks.url }], now: clock.now })
  const iat = clock.seconds()
  const token = signRs256(privateKey, { kid: 'weak' }, { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', iat, exp: iat + 60 })
  t.same(await answer(app, token), refused('key not accepted'))
})

t.test('two keys without a kid: the one that made the signature is found', async (t) => {
  const a = await makeKey('RS256', undefined)
  const b = await makeKey('RS256', undefined)
  const stranger = await makeKey('RS256', undefined)
  const jwks = await jwksServer(t, [a.jwk, b.jwk])
  const app = await jwtApp(t, { issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwksUri: jwks.url }], now: clock.now })
  t.equal((await answer(app, await sign(a, { clock }))).status, 200)
  t.equal((await answer(app, await sign(b, { clock }))).status, 200)
  t.same(await answer(app, await sign(stranger, { clock })), refused('bad signature'))
  t.same(await answer(app, await sign(b, { clock, claims: { aud: 'nope' } })), refused('wrong audience'), 'a claim failure stops the search')
})

t.test('a first-party HS256 token with a secret of 32 bytes or more', async (t) => {
  const secret = 'a-first-party-secret-of-32-bytes!'
  const app = await jwtApp(t, { issuers: [{ issuer: ISSUER, audience: AUDIENCE, secret }], now: clock.now })
  const iat = clock.seconds()
  const claims = { iss: ISSUER, aud: AUDIENCE, sub: 'svc', iat, exp: iat + 60 }
  const good = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(new TextEncoder().encode(secret))
  t.equal((await answer(app, good)).status, 200)
  const bad = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(new TextEncoder().encode(`${secret}x`))
  t.same(await answer(app, bad), refused('bad signature'))
  t.same(await answer(app, await sign(rsa, { clock })), refused('algorithm not allowed'))
})
