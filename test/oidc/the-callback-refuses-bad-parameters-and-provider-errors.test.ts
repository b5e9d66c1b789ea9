import t from 'tap'
import oidcLoginPlugin from '../../plugins/oidc/plugin.js'
import { openCookie, sealCookie } from '../../plugins/oidc/cookie-seal.js'
import { deriveKey } from '../../plugins/oidc/keys.js'
import type { OidcOptions, OidcProviderFailure } from '../../schemas/oidc.js'
import { captureLogs, makeApp } from '../helpers.js'
import { appOptions, Browser, CLIENT_SECRET, editCallback, INVALID, paramOf, REDIRECT_URI, SECRET_A, startProvider } from './provider.js'

// Starting a real provider and walking its login pages is slow on a busy machine.
t.setTimeout(120_000)
const op = await startProvider()
t.teardown(() => op.close())

const logs = captureLogs()

function lastReason (): unknown {
  return logs.lines.filter((l) => l.msg === 'fastify-rampart: OIDC callback refused').at(-1)?.reason
}

async function appWith (t: Parameters<typeof makeApp>[0], overrides: Partial<OidcOptions> = {}) {
  const app = makeApp(t, { logger: { level: 'info', stream: logs.stream } })
  await app.register(oidcLoginPlugin, appOptions(op.issuer, overrides))
  return app
}

async function pending (app: Awaited<ReturnType<typeof appWith>>, options: { abort?: boolean } = {}) {
  const browser = new Browser(app, op.issuer)
  const callback = await browser.loginUntilCallback('/auth/login?returnTo=/ok', options)
  return { callback, cookie: Browser.header(browser.appCookies) }
}

/** A state and cookie from the app's login path alone, without visiting the provider. */
async function started (app: Awaited<ReturnType<typeof appWith>>) {
  const res = await app.inject('/auth/login?returnTo=/ok')
  const state = new URL(res.headers.location as string).searchParams.get('state') as string
  const cookie = (res.headers['set-cookie'] as string).split(';')[0]
  return { state, cookie }
}

const ISS = encodeURIComponent

t.test('a parameter sent twice (state, code, iss, anything) is refused', async (t) => {
  const app = await appWith(t)
  const { callback, cookie } = await pending(app)
  for (const name of ['state', 'code', 'iss', 'session_state']) {
    const url = editCallback(callback, name, name === 'session_state' ? 'x' : paramOf(callback, name), true)
    const twice = name === 'session_state' ? editCallback(url, name, 'y', true) : url
    const res = await app.inject({ url: twice, headers: { cookie } })
    t.equal(res.statusCode, 400, name)
    t.same(res.json(), INVALID)
    t.equal(lastReason(), 'duplicate')
  }
  t.equal((await app.inject({ url: callback, headers: { cookie } })).statusCode, 200)
})

t.test('an iss other than the issuer, or none when the provider sends one, is refused (RFC 9207)', async (t) => {
  const app = await appWith(t)
  const { callback, cookie } = await pending(app)
  for (const iss of ['https://evil.example', `${op.issuer}/`, null]) {
    const res = await app.inject({ url: editCallback(callback, 'iss', iss), headers: { cookie } })
    t.equal(res.statusCode, 400, String(iss))
    t.same(res.json(), INVALID)
    t.equal(lastReason(), 'iss')
  }
  t.equal((await app.inject({ url: callback, headers: { cookie } })).statusCode, 200)
})

t.test('an id_token or access_token in the query (implicit or hybrid response) is refused', async (t) => {
  const app = await appWith(t)
  const { callback, cookie } = await pending(app)
  for (const name of ['id_token', 'access_token', 'token']) {
    const res = await app.inject({ url: editCallback(callback, name, 'eyJhbGciOiJub25lIn0.e30.'), headers: { cookie } })
    t.equal(res.statusCode, 400, name)
    t.same(res.json(), INVALID)
    t.equal(lastReason(), 'implicit')
  }
  t.equal((await app.inject({ url: callback, headers: { cookie } })).statusCode, 200)
})

t.test('a provider error is a 400 with its error code only, and the state is used up', async (t) => {
  const app = await appWith(t)
  const { callback, cookie } = await pending(app, { abort: true })
  t.equal(paramOf(callback, 'error'), 'access_denied')
  const res = await app.inject({ url: callback, headers: { cookie } })
  t.equal(res.statusCode, 400)
  t.same(res.json(), { ...INVALID, message: 'Invalid login callback: the identity provider answered access_denied' })
  t.equal(res.headers['set-cookie'], '__Host-rampart-oidc=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax')
  t.equal(lastReason(), 'provider error')
  t.equal((await app.inject({ url: callback, headers: { cookie } })).statusCode, 400)
  t.equal(lastReason(), 'replayed')

  // An error code outside the registered ones is not echoed.
  const other = await started(app)
  const forged = await app.inject({
    url: `/auth/callback?error=%3Cscript%3E&state=${other.state}&iss=${ISS(op.issuer)}`,
    headers: { cookie: other.cookie },
  })
  t.same(forged.json(), { ...INVALID, message: 'Invalid login callback: the identity provider answered error' })
})

t.test('a provider error goes to onError when given, with the returnTo path', async (t) => {
  const failures: OidcProviderFailure[] = []
  const app = await appWith(t, {
    onError: async (_request, reply, failure) => {
      failures.push(failure)
      return reply.redirect(`/login-failed?reason=${failure.error}`)
    },
  })
  const { callback, cookie } = await pending(app, { abort: true })
  const res = await app.inject({ url: callback, headers: { cookie } })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/login-failed?reason=access_denied')
  t.match(res.headers['set-cookie'], /^__Host-rampart-oidc=; Max-Age=0/)
  const other = await started(app)
  await app.inject({ url: `/auth/callback?error=login_required&state=${other.state}&iss=${ISS(op.issuer)}`, headers: { cookie: other.cookie } })
  t.same(failures, [
    { error: 'access_denied', errorDescription: 'End-User aborted interaction', returnTo: '/ok' },
    { error: 'login_required', returnTo: '/ok' },
  ])
})

t.test('a forged error without a valid state never reaches onError', async (t) => {
  let called = false
  const app = await appWith(t, { onError: () => { called = true } })
  const res = await app.inject(`/auth/callback?error=access_denied&iss=${ISS(op.issuer)}`)
  t.equal(res.statusCode, 400)
  t.same(res.json(), INVALID)
  t.equal(called, false)
})

t.test('the provider refuses the code with a wrong PKCE verifier, so a code is useless without the cookie', async (t) => {
  const app = await appWith(t)
  const direct = await pending(app)
  const token = await fetch(`${op.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`web:${CLIENT_SECRET}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: paramOf(direct.callback, 'code'),
      redirect_uri: REDIRECT_URI,
      code_verifier: 'a'.repeat(43),
    }),
  })
  t.equal(token.status, 400)
  t.match(await token.json(), { error: 'invalid_grant' })

  // Through the app: a cookie holding the right binding and nonce but another verifier.
  const { callback, cookie } = await pending(app)
  const key = deriveKey(SECRET_A)
  const sealed = openCookie(cookie.slice(cookie.indexOf('=') + 1), [key])
  if (sealed === undefined) throw new Error('cookie does not open')
  const wrong = `__Host-rampart-oidc=${sealCookie({ ...sealed, verifier: 'b'.repeat(43) }, key)}`
  const res = await app.inject({ url: callback, headers: { cookie: wrong } })
  t.equal(res.statusCode, 400)
  t.same(res.json(), INVALID)
  t.match(lastReason(), /^code exchange: /)
})

t.test('an id_token whose nonce is not this login\'s is refused by the id_token validation', async (t) => {
  const app = await appWith(t)
  const { callback, cookie } = await pending(app)
  const key = deriveKey(SECRET_A)
  const sealed = openCookie(cookie.slice(cookie.indexOf('=') + 1), [key])
  if (sealed === undefined) throw new Error('cookie does not open')
  const res = await app.inject({ url: callback, headers: { cookie: `__Host-rampart-oidc=${sealCookie({ ...sealed, nonce: 'other-nonce' }, key)}` } })
  t.equal(res.statusCode, 400)
  t.same(res.json(), INVALID)
  t.match(lastReason(), /^code exchange: /)
})

t.test('a made-up code is refused by the provider: 400', async (t) => {
  const app = await appWith(t)
  const { state, cookie } = await started(app)
  const res = await app.inject({ url: `/auth/callback?code=made-up&state=${state}&iss=${ISS(op.issuer)}`, headers: { cookie } })
  t.equal(res.statusCode, 400)
  t.same(res.json(), INVALID)
  const none = await started(app)
  const missing = await app.inject({ url: `/auth/callback?state=${none.state}&iss=${ISS(op.issuer)}`, headers: { cookie: none.cookie } })
  t.equal(missing.statusCode, 400)
  t.same(missing.json(), INVALID)
})

t.test('a provider that cannot be reached or answers 5xx at the token endpoint gives 503, never 500', async (t) => {
  let tokenAnswer: 'throw' | 'json500' | 'html502' | 'pass' = 'pass'
  const app = await appWith(t, {
    fetch: async (url, init) => {
      if (url.endsWith('/token') && tokenAnswer !== 'pass') {
        if (tokenAnswer === 'throw') throw new TypeError('fetch failed')
        if (tokenAnswer === 'json500') {
          return new Response(JSON.stringify({ error: 'server_error' }), { status: 500, headers: { 'content-type': 'application/json' } })
        }
        return new Response('<html>bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } })
      }
      return fetch(url, init)
    },
  })
  for (const answer of ['throw', 'json500', 'html502'] as const) {
    tokenAnswer = answer
    const { state, cookie } = await started(app)
    const res = await app.inject({ url: `/auth/callback?code=c&state=${state}&iss=${ISS(op.issuer)}`, headers: { cookie } })
    t.equal(res.statusCode, 503, answer)
    t.same(res.json(), { statusCode: 503, code: 'FST_RAMPART_OIDC_UNAVAILABLE', error: 'Service Unavailable', message: 'Login is temporarily unavailable' })
  }
  tokenAnswer = 'pass'
  const { callback, cookie } = await pending(app)
  t.equal((await app.inject({ url: callback, headers: { cookie } })).statusCode, 200)
})
