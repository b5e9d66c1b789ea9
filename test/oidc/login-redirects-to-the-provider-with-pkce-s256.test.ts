import { createHash } from 'node:crypto'
import t from 'tap'
import { calculatePKCECodeChallenge } from 'openid-client'
import oidcLoginPlugin from '../../plugins/oidc/plugin.js'
import { openCookie } from '../../plugins/oidc/cookie-seal.js'
import { deriveKey } from '../../plugins/oidc/keys.js'
import { makeApp } from '../helpers.js'
import { appOptions, REDIRECT_URI, SECRET_A, startProvider, statePayload } from './provider.js'

// Starting a real provider and walking its login pages is slow on a busy machine.
t.setTimeout(120_000)
const op = await startProvider()
t.teardown(() => op.close())

async function loginApp (t: Parameters<typeof makeApp>[0]) {
  const app = makeApp(t)
  await app.register(oidcLoginPlugin, appOptions(op.issuer))
  return app
}

t.test('the login path redirects to the authorization endpoint with code, S256 challenge, state and nonce', async (t) => {
  const app = await loginApp(t)
  const res = await app.inject('/auth/login?returnTo=/orders/7')
  t.equal(res.statusCode, 302)
  t.equal(res.headers['cache-control'], 'no-store')
  const location = new URL(res.headers.location as string)
  t.equal(location.origin + location.pathname, `${op.issuer}/auth`)
  const params = Object.fromEntries(location.searchParams)
  t.same(Object.keys(params).sort(), ['client_id', 'code_challenge', 'code_challenge_method', 'nonce', 'redirect_uri', 'response_type', 'scope', 'state'])
  t.matchOnly(params, {
    client_id: 'web',
    code_challenge: /^[A-Za-z0-9_-]{43}$/,
    code_challenge_method: 'S256',
    nonce: /^[A-Za-z0-9_-]{43}$/,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'openid email',
    state: /^s1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/,
  })
  t.ok(params.state.length <= 512)
  t.matchOnly(statePayload(params.state), {
    kid: deriveKey(SECRET_A).id,
    rnd: /^[A-Za-z0-9_-]{22,}$/,
    iat: Number,
    bnd: /^[A-Za-z0-9_-]{43}$/,
    ret: '/orders/7',
  })
  t.ok(Math.abs((statePayload(params.state).iat as number) - Date.now() / 1000) < 60)

  // One cookie, __Host- prefixed, HttpOnly, Secure, SameSite=Lax, for the state's lifetime.
  const cookie = res.headers['set-cookie'] as string
  t.match(cookie, /^__Host-rampart-oidc=c1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; Max-Age=600; Path=\/; HttpOnly; Secure; SameSite=Lax$/)
  const value = cookie.slice('__Host-rampart-oidc='.length, cookie.indexOf(';'))
  const sealed = openCookie(value, [deriveKey(SECRET_A)])
  if (sealed === undefined) throw new Error('cookie does not open')
  // The browser holds neither the verifier nor the nonce in the clear.
  t.notOk(value.includes(sealed.verifier))
  t.notOk(value.includes(params.nonce))
  t.equal(sealed.nonce, params.nonce)
  t.equal(await calculatePKCECodeChallenge(sealed.verifier), params.code_challenge)
  t.equal(createHash('sha256').update(sealed.binding).digest('base64url'), statePayload(params.state).bnd)
})

t.test('every login gets a fresh state, nonce, verifier and binding', async (t) => {
  const app = await loginApp(t)
  const a = new URL((await app.inject('/auth/login')).headers.location as string).searchParams
  const b = new URL((await app.inject('/auth/login')).headers.location as string).searchParams
  t.not(a.get('state'), b.get('state'))
  t.not(a.get('nonce'), b.get('nonce'))
  t.not(a.get('code_challenge'), b.get('code_challenge'))
  t.not(statePayload(a.get('state') as string).bnd, statePayload(b.get('state') as string).bnd)
})

t.test('returnTo keeps only a same-site relative path; anything else becomes /', async (t) => {
  const app = await loginApp(t)
  const cases: [string, string][] = [
    ['returnTo=/ok', '/ok'],
    ['returnTo=/orders/7?tab=items%26x', '/orders/7?tab=items&x'],
    ['returnTo=//evil.com', '/'],
    ['returnTo=https://evil.com', '/'],
    ['returnTo=/%5Cevil.com', '/'],
    ['returnTo=/%09/evil.com', '/'],
    ['returnTo=javascript:alert(1)', '/'],
    ['returnTo=evil.com', '/'],
    ['returnTo=/ok&returnTo=//evil.com', '/'],
    ['returnTo=', '/'],
    ['', '/'],
    [`returnTo=/${'a'.repeat(300)}`, '/'],
  ]
  for (const [query, expected] of cases) {
    const res = await app.inject(`/auth/login?${query}`)
    const state = new URL(res.headers.location as string).searchParams.get('state') as string
    t.equal(statePayload(state).ret, expected, query)
  }
})
