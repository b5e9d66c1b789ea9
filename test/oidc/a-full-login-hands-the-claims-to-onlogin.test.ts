import fastifyCookie from '@fastify/cookie'
import t from 'tap'
import oidcLoginPlugin from '../../plugins/oidc/plugin.js'
import type { OidcLogin } from '../../schemas/oidc.js'
import { makeApp } from '../helpers.js'
import { appOptions, Browser, startProvider } from './provider.js'

// Starting a real provider and walking its login pages is slow on a busy machine.
t.setTimeout(120_000)
const op = await startProvider()
t.teardown(() => op.close())

const CLEARED = '__Host-rampart-oidc=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax'

t.test('a full login reaches onLogin with the validated claims and tokens, and returnTo is honoured', async (t) => {
  const app = makeApp(t)
  const logins: OidcLogin[] = []
  await app.register(oidcLoginPlugin, appOptions(op.issuer, {
    onLogin: async (_request, reply, login) => {
      logins.push(login)
      return reply.redirect(login.returnTo)
    },
  }))
  const browser = new Browser(app, op.issuer)
  const callback = await browser.loginUntilCallback('/auth/login?returnTo=/orders/7')
  t.match(callback, /^\/auth\/callback\?code=[^&]+&state=s1\.[^&]+&iss=/)
  const res = await browser.appGet(callback)
  t.equal(res.statusCode, 302)
  t.same({ location: res.headers.location, 'cache-control': res.headers['cache-control'], 'set-cookie': res.headers['set-cookie'] }, {
    location: '/orders/7',
    'cache-control': 'no-store',
    'set-cookie': CLEARED,
  })
  t.equal(logins.length, 1)
  const { claims, tokens, returnTo } = logins[0]
  t.equal(returnTo, '/orders/7')
  t.matchOnly(claims, {
    sub: 'alice',
    email: 'alice@example.com',
    email_verified: true,
    aud: 'web',
    iss: op.issuer,
    nonce: String,
    exp: Number,
    iat: Number,
  })
  t.match(tokens, { token_type: 'bearer', access_token: String, id_token: String, scope: 'openid email' })
})

t.test('a public client (no secret) logs in with PKCE alone', async (t) => {
  const app = makeApp(t)
  await app.register(oidcLoginPlugin, appOptions(op.issuer, { clientId: 'spa', clientSecret: undefined }))
  const browser = new Browser(app, op.issuer)
  const res = await browser.appGet(await browser.loginUntilCallback('/auth/login?returnTo=/ok', { account: 'bob' }))
  t.equal(res.statusCode, 200)
  t.same(res.json(), { sub: 'bob', email: 'bob@example.com', returnTo: '/ok' })
})

t.test('client_secret_post sends the secret in the body, and an app that has @fastify/cookie keeps its own', async (t) => {
  const app = makeApp(t)
  await app.register(fastifyCookie, { secret: 'app-cookie-secret' })
  await app.register(oidcLoginPlugin, appOptions(op.issuer, { tokenEndpointAuthMethod: 'client_secret_post' }))
  const browser = new Browser(app, op.issuer)
  const res = await browser.appGet(await browser.loginUntilCallback('/auth/login?returnTo=//evil.com'))
  t.equal(res.statusCode, 200)
  t.same(res.json(), { sub: 'alice', email: 'alice@example.com', returnTo: '/' })
  t.equal(app.signCookie('x').startsWith('x.'), true)
})

t.test('other paths work, the login path and callback path are the options', async (t) => {
  const app = makeApp(t)
  await app.register(oidcLoginPlugin, appOptions(op.issuer, {
    loginPath: '/sso/start',
    callbackPath: '/callback',
  }))
  const browser = new Browser(app, op.issuer)
  t.equal((await app.inject('/auth/login')).statusCode, 404)
  const callback = await browser.loginUntilCallback('/sso/start?returnTo=/ok')
  const res = await browser.appGet(callback.replace('/auth/callback', '/callback'))
  t.equal(res.statusCode, 200)
  t.same(res.json(), { sub: 'alice', email: 'alice@example.com', returnTo: '/ok' })
})
