import t from 'tap'
import * as verify from '../../plugins/jwt/verify.js'
import { makeApp } from '../helpers.js'
import { bearer, fakeClock, localIssuer, makeKey, sign } from './helpers.js'

const rsa = await makeKey('RS256')
let verifications = 0
const { default: jwtPlugin } = await t.mockImport<typeof import('../../plugins/jwt/plugin.js')>('../../plugins/jwt/plugin.js', {
  '../../plugins/jwt/verify.js': {
    ...verify,
    verifyToken: (...args: Parameters<typeof verify.verifyToken>) => {
      verifications++
      return verify.verifyToken(...args)
    },
  },
})

async function app (t: { teardown: (fn: () => unknown) => void }, clock: ReturnType<typeof fakeClock>, cache?: false | { maxEntries: number }) {
  const a = makeApp(t)
  await a.register(jwtPlugin, { issuers: [localIssuer(rsa)], now: clock.now, ...(cache === undefined ? {} : { cache }) })
  a.get('/', async () => 'ok')
  a.get('/admin', { config: { security: { jwt: { scopes: ['admin'] } } } }, async () => 'ok')
  return a
}

t.test('a repeated token costs no signature check; scopes and revocation are still checked', async (t) => {
  const clock = fakeClock()
  const a = await app(t, clock)
  const token = await sign(rsa, { clock, claims: { jti: 'c1' } })
  verifications = 0
  for (let i = 0; i < 5; i++) t.equal((await a.inject({ url: '/', headers: bearer(token) })).statusCode, 200)
  t.equal(verifications, 1)
  t.equal((await a.inject({ url: '/admin', headers: bearer(token) })).statusCode, 403, 'scope checked on a cache hit')
  await a.revokeToken('c1', clock.seconds() + 3600)
  t.equal((await a.inject({ url: '/', headers: bearer(token) })).statusCode, 401, 'revocation checked on a cache hit')
  t.equal(verifications, 1)
})

t.test('cache entries are dropped at exp', async (t) => {
  const clock = fakeClock()
  const a = await app(t, clock)
  const token = await sign(rsa, { clock, claims: { exp: clock.seconds() + 60 } })
  verifications = 0
  t.equal((await a.inject({ url: '/', headers: bearer(token) })).statusCode, 200)
  clock.advance(60_000)
  const res = await a.inject({ url: '/', headers: bearer(token) })
  t.equal(verifications, 2, 'verified again once exp is reached')
  t.equal(res.statusCode, 200, 'jose still allows the clock tolerance')
  clock.advance(31_000)
  t.equal((await a.inject({ url: '/', headers: bearer(token) })).statusCode, 401)
})

t.test('cache: false verifies every time; the cache is bounded', async (t) => {
  const clock = fakeClock()
  const off = await app(t, clock, false)
  const token = await sign(rsa, { clock })
  verifications = 0
  await off.inject({ url: '/', headers: bearer(token) })
  await off.inject({ url: '/', headers: bearer(token) })
  t.equal(verifications, 2)

  const small = await app(t, clock, { maxEntries: 1 })
  const other = await sign(rsa, { clock })
  verifications = 0
  for (const tk of [token, other, token]) await small.inject({ url: '/', headers: bearer(tk) })
  t.equal(verifications, 3, 'the first token was evicted by the second')
})
