import t from 'tap'
import oidcLoginPlugin from '../../plugins/oidc/plugin.js'
import { makeApp } from '../helpers.js'
import { Browser, CLIENT_SECRET, REDIRECT_URI, SECRET_A, startProvider } from './provider.js'

const op = await startProvider()
t.teardown(() => op.close())

t.test('a full login hands the validated claims and the returnTo path to onLogin', async (t) => {
  const app = makeApp(t)
  const logins: unknown[] = []
  await app.register(oidcLoginPlugin, {
    issuer: op.issuer,
    clientId: 'web',
    clientSecret: CLIENT_SECRET,
    redirectUri: REDIRECT_URI,
    scopes: ['openid', 'email'],
    stateSecrets: [SECRET_A],
    onLogin: async (_request, reply, login) => {
      logins.push(login)
      return reply.redirect(login.returnTo)
    },
  })
  const browser = new Browser(app, op.issuer)
  const callback = await browser.loginUntilCallback('/auth/login?returnTo=/orders/7')
  const res = await browser.appGet(callback)
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/orders/7')
  console.log(res.headers, logins)
})
