import t from 'tap'
import oidcLoginPlugin from '../../plugins/oidc/plugin.js'
import { captureLogs, makeApp } from '../helpers.js'
import { appOptions, Browser, editCallback, INVALID, paramOf, SECRET_A, SECRET_B, SECRET_C, startProvider } from './provider.js'

type App = Awaited<ReturnType<typeof appWith>>
import type { OidcOptions } from '../../schemas/oidc.js'

// Starting a real provider and walking its login pages is slow on a busy machine.
t.setTimeout(120_000)
const op = await startProvider()
t.teardown(() => op.close())

const logs = captureLogs()

async function appWith (t: Parameters<typeof makeApp>[0], overrides: Partial<OidcOptions> = {}) {
  const app = makeApp(t, { logger: { level: 'info', stream: logs.stream } })
  await app.register(oidcLoginPlugin, appOptions(op.issuer, overrides))
  return app
}

/** Why the last callback was refused, from the plugin's log line. */
function lastReason (): unknown {
  return logs.lines.filter((l) => l.msg === 'fastify-rampart: OIDC callback refused').at(-1)?.reason
}

/** A login through the provider, stopped at the callback: its URL and the browser's cookie header. */
async function pending (app: App, loginUrl = '/auth/login?returnTo=/ok') {
  const browser = new Browser(app, op.issuer)
  const callback = await browser.loginUntilCallback(loginUrl)
  return { browser, callback, cookie: Browser.header(browser.appCookies) }
}

t.test('a state with one character changed is refused, and the real one still works once', async (t) => {
  const app = await appWith(t)
  const { browser, callback, cookie } = await pending(app)
  const state = paramOf(callback, 'state')
  const dot = state.lastIndexOf('.')
  const variants = [
    's2' + state.slice(2),
    state.slice(0, 3) + (state[3] === 'A' ? 'B' : 'A') + state.slice(4),
    state.slice(0, dot + 1) + (state[dot + 1] === 'A' ? 'B' : 'A') + state.slice(dot + 2),
    state.slice(0, -1) + (state.at(-1) === 'A' ? 'B' : 'A'),
    state.slice(0, -1) + (state.at(-1) === 'A' ? 'Q' : 'A'),
  ]
  for (const variant of variants) {
    const res = await browser.appGet(editCallback(callback, 'state', variant), cookie)
    t.equal(res.statusCode, 400)
    t.same(res.json(), INVALID)
    t.equal(res.headers['set-cookie'], '__Host-rampart-oidc=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax')
  }
  const ok = await browser.appGet(callback, cookie)
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { sub: 'alice', email: 'alice@example.com', returnTo: '/ok' })

  // The same state twice: refused before the code is tried again.
  const again = await browser.appGet(callback, cookie)
  t.equal(again.statusCode, 400)
  t.same(again.json(), INVALID)
  t.equal(lastReason(), 'replayed')
})

t.test('a state signed with the previous secret verifies after rotation; an unknown secret does not', async (t) => {
  const before = await appWith(t, { stateSecrets: [SECRET_A] })
  const rotated = await appWith(t, { stateSecrets: [SECRET_B, SECRET_A] })
  const foreign = await appWith(t, { stateSecrets: [SECRET_C] })
  const { callback, cookie } = await pending(before)
  const refused = await foreign.inject({ url: callback, headers: { cookie } })
  t.equal(refused.statusCode, 400)
  t.same(refused.json(), INVALID)
  t.equal(lastReason(), 'state: mac')
  const res = await rotated.inject({ url: callback, headers: { cookie } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { sub: 'alice', email: 'alice@example.com', returnTo: '/ok' })
})

t.test('a state older than 10 minutes is refused; one younger is accepted', async (t) => {
  let clock = Date.now()
  const app = await appWith(t, { now: () => clock })
  const old = await pending(app)
  const fresh = await pending(app)
  clock += 601_000
  const res = await app.inject({ url: old.callback, headers: { cookie: old.cookie } })
  t.equal(res.statusCode, 400)
  t.same(res.json(), INVALID)
  t.equal(lastReason(), 'state: expired')
  clock -= 2000
  t.equal((await app.inject({ url: fresh.callback, headers: { cookie: fresh.cookie } })).statusCode, 200)
})

t.test('a state from the future (more than 30 s ahead of the clock) is refused', async (t) => {
  let clock = Date.now() + 31_000
  const app = await appWith(t, { now: () => clock })
  const { callback, cookie } = await pending(app)
  clock -= 31_000
  const res = await app.inject({ url: callback, headers: { cookie } })
  t.equal(res.statusCode, 400)
  t.same(res.json(), INVALID)
  t.equal(lastReason(), 'state: future')
})

t.test('a state from another browser (other cookie) is refused for both', async (t) => {
  const app = await appWith(t)
  const one = await pending(app)
  const two = await pending(app)
  for (const [callback, cookie] of [[one.callback, two.cookie], [two.callback, one.cookie]]) {
    const res = await app.inject({ url: callback, headers: { cookie } })
    t.equal(res.statusCode, 400)
    t.same(res.json(), INVALID)
    t.equal(lastReason(), 'binding')
  }
  t.equal((await app.inject({ url: one.callback, headers: { cookie: one.cookie } })).statusCode, 200)
  t.equal((await app.inject({ url: two.callback, headers: { cookie: two.cookie } })).statusCode, 200)
})

t.test('a missing state or cookie, an over-long state, a garbled cookie are refused', async (t) => {
  const app = await appWith(t)
  const { callback, cookie } = await pending(app)
  const state = paramOf(callback, 'state')
  const cases: [string, string | undefined, string][] = [
    [editCallback(callback, 'state', null), cookie, 'state'],
    [editCallback(callback, 'state', ''), cookie, 'state'],
    [editCallback(callback, 'state', state + 'A'.repeat(600)), cookie, 'state: length'],
    [callback, undefined, 'cookie'],
    [callback, '__Host-rampart-oidc=garbage', 'cookie'],
    [callback, cookie.replace('c1.', 'c2.'), 'cookie'],
    [`/auth/callback?iss=${encodeURIComponent(op.issuer)}`, cookie, 'state'],
    ['/auth/callback', cookie, 'iss'],
  ]
  for (const [url, cookieHeader, reason] of cases) {
    const res = await app.inject({ url, headers: cookieHeader === undefined ? {} : { cookie: cookieHeader } })
    t.equal(res.statusCode, 400, url)
    t.same(res.json(), INVALID)
    t.equal(lastReason(), reason)
  }
  t.equal((await app.inject({ url: callback, headers: { cookie } })).statusCode, 200)
})
