import { Redis } from 'ioredis'
import t from 'tap'
import oidcLoginPlugin from '../../plugins/oidc/plugin.js'
import type { OidcOptions } from '../../schemas/oidc.js'
import { captureLogs, makeApp } from '../helpers.js'
import { freePort, REDIS_URL, skipRedis, uniquePrefix } from '../redis-helpers.js'
import { appOptions, Browser, INVALID, startProvider } from './provider.js'

// Starting a real provider and walking its login pages is slow on a busy machine.
t.setTimeout(120_000)
const op = await startProvider()
t.teardown(() => op.close())

async function instance (t: Parameters<typeof makeApp>[0], store: OidcOptions['store']) {
  const logs = captureLogs()
  const app = makeApp(t, { logger: { level: 'info', stream: logs.stream } })
  await app.register(oidcLoginPlugin, appOptions(op.issuer, { store }))
  return { app, logs }
}

t.test('a state used on one instance is refused on the other', { skip: skipRedis }, async (t) => {
  const prefix = uniquePrefix('oidc')
  const one = await instance(t, { redis: REDIS_URL, prefix })
  const two = await instance(t, { redis: REDIS_URL, prefix })
  const browser = new Browser(one.app, op.issuer)
  const callback = await browser.loginUntilCallback('/auth/login?returnTo=/ok')
  const cookie = Browser.header(browser.appCookies)
  const first = await two.app.inject({ url: callback, headers: { cookie } })
  t.equal(first.statusCode, 200)
  t.same(first.json(), { sub: 'alice', email: 'alice@example.com', returnTo: '/ok' })
  for (const app of [one.app, two.app]) {
    const replay = await app.inject({ url: callback, headers: { cookie } })
    t.equal(replay.statusCode, 400)
    t.same(replay.json(), INVALID)
  }
  t.match(one.logs.lines.filter((l) => l.msg === 'fastify-rampart: OIDC callback refused'), [{ reason: 'replayed' }])

  // The claim is a done claim under the prefix, expiring with the state.
  const redis = new Redis(REDIS_URL)
  t.teardown(() => redis.quit())
  const keys = await redis.keys(`${prefix}*`)
  t.equal(keys.length, 1)
  t.match(await redis.get(keys[0]), /^d:/)
  const ttl = await redis.pttl(keys[0])
  t.ok(ttl > 600_000 && ttl <= 631_000, String(ttl))
  await redis.del(keys)
})

t.test('a client of your own is used as it is and left open at close', { skip: skipRedis }, async (t) => {
  const prefix = uniquePrefix('oidc-client')
  const client = new Redis(REDIS_URL)
  t.teardown(() => client.quit())
  const { app } = await instance(t, { redis: client, prefix })
  const browser = new Browser(app, op.issuer)
  const callback = await browser.loginUntilCallback()
  const cookie = Browser.header(browser.appCookies)
  t.equal((await app.inject({ url: callback, headers: { cookie } })).statusCode, 200)
  t.equal((await app.inject({ url: callback, headers: { cookie } })).statusCode, 400)
  await app.close()
  t.equal(client.status, 'ready')
  await client.del(await client.keys(`${prefix}*`))
})

t.test('a claim that cannot be completed stays pending, which still blocks a replay', { skip: skipRedis }, async (t) => {
  const prefix = uniquePrefix('oidc-pending')
  const client = new Redis(REDIS_URL)
  t.teardown(() => client.quit())
  const { app } = await instance(t, { redis: client, prefix })
  ;(client as unknown as { rampartClaimComplete: () => Promise<number> }).rampartClaimComplete = async () => {
    throw new Error('connection lost')
  }
  const browser = new Browser(app, op.issuer)
  const callback = await browser.loginUntilCallback()
  const cookie = Browser.header(browser.appCookies)
  t.equal((await app.inject({ url: callback, headers: { cookie } })).statusCode, 200)
  t.equal((await app.inject({ url: callback, headers: { cookie } })).statusCode, 400)
  const keys = await client.keys(`${prefix}*`)
  t.match(await client.get(keys[0]), /^p:/)
  await client.del(keys)
})

t.test('a Redis that is down gives 503 at the callback, never a 500 or an unchecked login', async (t) => {
  const port = await freePort()
  const { app, logs } = await instance(t, { redis: `redis://127.0.0.1:${port}` })
  const res = await app.inject('/auth/login')
  const state = new URL(res.headers.location as string).searchParams.get('state') as string
  const cookie = (res.headers['set-cookie'] as string).split(';')[0]
  const callback = await app.inject({ url: `/auth/callback?code=x&state=${state}&iss=${encodeURIComponent(op.issuer)}`, headers: { cookie } })
  t.equal(callback.statusCode, 503)
  t.same(callback.json(), { statusCode: 503, code: 'FST_RAMPART_OIDC_UNAVAILABLE', error: 'Service Unavailable', message: 'Login is temporarily unavailable' })
  t.ok(logs.lines.some((l) => l.msg === 'fastify-rampart: the OIDC state store failed'))
})
