import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import t from 'tap'
import { RevocationList, toEpochMs } from '../../plugins/jwt/revocation.js'
import { captureLogs, caught, makeApp } from '../helpers.js'
import { freePort, REDIS_URL, skipRedis, startRedis, uniquePrefix } from '../redis-helpers.js'
import jwtPlugin from '../../plugins/jwt/plugin.js'
import { bearer, fakeClock, jwtApp, localIssuer, makeKey, sign } from './helpers.js'

const rsa = await makeKey('RS256')

async function status (app: Awaited<ReturnType<typeof jwtApp>>, token: string): Promise<number> {
  return (await app.inject({ url: '/', headers: bearer(token) })).statusCode
}

/** Polls until `check` holds, up to `bound` ms: the bound is what is asserted, not a timing. */
async function within (bound: number, check: () => Promise<boolean>): Promise<boolean> {
  const end = Date.now() + bound
  while (Date.now() < end) {
    if (await check()) return true
    await sleep(5)
  }
  return check()
}

t.test('revokeToken refuses the token by jti, cached or not, until it would have expired', async (t) => {
  const clock = fakeClock()
  const app = await jwtApp(t, { issuers: [localIssuer(rsa)], now: clock.now })
  const token = await sign(rsa, { clock, claims: { jti: 'abc' } })
  const other = await sign(rsa, { clock, claims: { jti: 'def' } })
  t.equal(await status(app, token), 200, 'now in the verified-token cache')
  await app.revokeToken('abc', clock.seconds() + 3600)
  const res = await app.inject({ url: '/', headers: bearer(token) })
  t.same([res.statusCode, res.headers['www-authenticate']], [401, 'Bearer realm="api", error="invalid_token", error_description="revoked"'])
  t.equal(await status(app, other), 200)
  await app.revokeToken('def', new Date(clock.now() - 1))
  t.equal(await status(app, other), 200, 'an already expired revocation is a no-op')
})

t.test('revokeSubject logs a subject out everywhere: tokens issued before, not after', async (t) => {
  const clock = fakeClock()
  const app = await jwtApp(t, { issuers: [localIssuer(rsa)], now: clock.now })
  const before = await sign(rsa, { clock, claims: { sub: 'alice' } })
  const bob = await sign(rsa, { clock, claims: { sub: 'bob' } })
  clock.advance(1000)
  await app.revokeSubject('alice')
  clock.advance(1000)
  const after = await sign(rsa, { clock, claims: { sub: 'alice' } })
  t.same([await status(app, before), await status(app, bob), await status(app, after)], [401, 200, 200])
  await app.revokeSubject('alice', clock.now() - 5000)
  t.equal(await status(app, after), 200, 'an earlier cut-off does not undo a later one')
  t.equal(await status(app, before), 401)
})

t.test('revocation arguments are checked, and a full list refuses instead of forgetting', async (t) => {
  const clock = fakeClock()
  const app = await jwtApp(t, { issuers: [localIssuer(rsa)], now: clock.now, revocation: { maxEntries: 1 } })
  t.match(await caught(() => app.revokeToken('', 1)), { name: 'TypeError' })
  t.match(await caught(() => app.revokeToken('a', Number.NaN)), { name: 'TypeError' })
  t.match(await caught(() => app.revokeSubject('', 1)), { name: 'TypeError' })
  await app.revokeToken('a', clock.now() + 1000)
  t.match(await caught(() => app.revokeToken('b', clock.now() + 1000)), { message: /revocation list is full/ })
  await app.revokeSubject('s', clock.now())
  t.match(await caught(() => app.revokeSubject('t', clock.now())), { message: /revocation list is full/ })
})

t.test('without maxTokenAge a subject revocation lasts 30 days; a token without iat is then refused', async (t) => {
  const clock = fakeClock()
  const app = await jwtApp(t, { issuers: [localIssuer(rsa)], now: clock.now, maxTokenAge: false })
  await app.revokeSubject('alice', clock.now())
  clock.advance(29 * 86_400_000)
  t.equal(await status(app, await sign(rsa, { clock, claims: { sub: 'alice' }, omit: ['iat'] })), 401)
  clock.advance(2 * 86_400_000)
  t.equal(await status(app, await sign(rsa, { clock, claims: { sub: 'alice' }, omit: ['iat'] })), 200)
})

t.test('RevocationList and toEpochMs on their own', async (t) => {
  const clock = fakeClock(0)
  const list = new RevocationList(10, clock.now)
  t.ok(list.addToken('x', 100))
  t.ok(list.addToken('x', 50), 'a shorter expiry keeps the longer one')
  clock.advance(60)
  t.ok(list.revoked('x', undefined, undefined))
  t.notOk(list.revoked(undefined, undefined, undefined))
  t.ok(list.addSubject('s', 10, 0), 'expired: nothing stored')
  t.notOk(list.revoked(undefined, 's', 0))
  t.equal(toEpochMs(1_800_000_000), 1_800_000_000_000)
  t.equal(toEpochMs(1_800_000_000_000), 1_800_000_000_000)
  t.equal(toEpochMs(new Date(5)), 5)
})

t.test('with Redis: a revocation on one instance is enforced on another within 100 ms', { skip: skipRedis }, async (t) => {
  const prefix = uniquePrefix('jwt-revocation')
  const options = { issuers: [localIssuer(rsa)], revocation: { store: { redis: REDIS_URL, prefix } } }
  const a = await jwtApp(t, options)
  const b = await jwtApp(t, options)
  const clock = fakeClock(Date.now())
  const token = await sign(rsa, { clock, claims: { jti: 'shared' } })
  const alice = await sign(rsa, { clock, claims: { sub: 'alice' } })
  t.same([await status(a, token), await status(b, token), await status(b, alice)], [200, 200, 200])
  await a.revokeToken('shared', clock.seconds() + 3600)
  await a.revokeSubject('alice', Date.now() + 1000)
  t.equal(await status(a, token), 401, 'at once on the instance that revoked')
  t.ok(await within(100, async () => (await status(b, token)) === 401 && (await status(b, alice)) === 401), 'on the other within 100 ms')

  // A third instance started later loads the list from Redis.
  const c = await jwtApp(t, options)
  t.same([await status(c, token), await status(c, alice)], [401, 401])

  const redis = new Redis(REDIS_URL)
  t.teardown(() => redis.quit())
  const keys = await redis.keys(`${prefix}*`)
  t.same(keys, [`${prefix}{revoked}`])
  const ttl = await redis.zrange(keys[0], 0, -1, 'WITHSCORES')
  t.equal(ttl.length, 4, 'one member per revocation, scored by expiry')
})

t.test('with a user-supplied ioredis client: the client is left open', { skip: skipRedis }, async (t) => {
  const prefix = uniquePrefix('jwt-client')
  const client = new Redis(REDIS_URL)
  t.teardown(() => client.quit())
  const app = makeApp(t)
  await app.register(jwtPlugin, { issuers: [localIssuer(rsa)], revocation: { store: { redis: client, prefix } } })
  await app.ready()
  await app.revokeToken('x', new Date(Date.now() + 60_000))
  await app.close()
  t.equal(client.status, 'ready')
  t.same(await client.zrange(`${prefix}{revoked}`, 0, -1), ['t\nx'])
})

t.test('after a Redis outage, the list is reloaded when the subscriber reconnects', { skip: skipRedis }, async (t) => {
  const port = await freePort()
  let server = await startRedis(port)
  t.teardown(() => server.kill('SIGKILL'))
  const url = `redis://127.0.0.1:${port}`
  const prefix = uniquePrefix('jwt-reconnect')
  const logs = captureLogs()
  const app = makeApp(t, { logger: { level: 'error', stream: logs.stream } })
  await app.register(jwtPlugin, { issuers: [localIssuer(rsa)], revocation: { store: { redis: url, prefix } } })
  app.get('/', async () => 'ok')
  await app.ready()
  const clock = fakeClock(Date.now())
  const token = await sign(rsa, { clock, claims: { jti: 'missed' } })
  t.equal(await status(app, token), 200)

  server.kill('SIGKILL')
  await new Promise((resolve) => server.once('exit', resolve))
  t.match(await caught(() => app.revokeToken('during-outage', Date.now() + 60_000)), Error, 'a write that cannot reach Redis rejects')
  server = await startRedis(port)
  // Written and not published, then the subscriber is cut off: only the
  // reload on its reconnect can find it. (Written before the app's clients
  // come back by themselves, the test would race their reconnect.)
  const writer = new Redis(url)
  t.teardown(() => writer.disconnect())
  await writer.zadd(`${prefix}{revoked}`, Date.now() + 60_000, 't\nmissed')
  await writer.client('KILL', 'TYPE', 'pubsub')
  t.ok(await within(5000, async () => (await status(app, token)) === 401), 'enforced after the reconnect')
  // Whether ioredis reports an error depends on whether a reconnect attempt met the closed port first: not asserted.
  t.ok(logs.lines.every((l) => !JSON.stringify(l).includes(token)), 'no log line carries the token')
})

t.test('a Redis that is down at start does not stop the app from starting', { skip: skipRedis }, async (t) => {
  const port = await freePort()
  const logs = captureLogs()
  const app = makeApp(t, { logger: { level: 'error', stream: logs.stream } })
  await app.register(jwtPlugin, { issuers: [localIssuer(rsa)], revocation: { store: { redis: `redis://127.0.0.1:${port}`, prefix: uniquePrefix('down') } } })
  await app.ready()
  t.ok(app.hasDecorator('revokeToken'))
})

t.test('a failed load is logged, never thrown', async (t) => {
  const { EventEmitter } = await import('node:events')
  const { RevocationSync } = await import('../../plugins/jwt/revocation.js')
  const logs = captureLogs()
  const app = makeApp(t, { logger: { level: 'error', stream: logs.stream } })
  const subscriber = Object.assign(new EventEmitter(), { subscribe: async () => 1, disconnect: () => {} })
  const client = Object.assign(new EventEmitter(), {
    status: 'ready',
    duplicate: () => subscriber,
    zrange: async () => { throw new Error('NOAUTH') },
  })
  const sync = new RevocationSync({ redis: client as never, prefix: 'p:', log: app.log, list: new RevocationList(10, Date.now), now: Date.now })
  await sync.start()
  t.match(logs.lines, [{ msg: 'fastify-rampart: jwt revocation Redis sync failed', during: 'load', err: { message: 'NOAUTH' } }])
  await sync.close()
})

t.test('a failed load is tried again until it succeeds, and no more once closed', async (t) => {
  const { EventEmitter } = await import('node:events')
  const { RevocationSync } = await import('../../plugins/jwt/revocation.js')
  const app = makeApp(t, { logger: false })
  const subscriber = Object.assign(new EventEmitter(), { subscribe: async () => 1, disconnect: () => {} })
  let calls = 0
  let loaded: () => void = () => {}
  const done = new Promise<void>((resolve) => { loaded = resolve })
  const client = Object.assign(new EventEmitter(), {
    status: 'ready',
    duplicate: () => subscriber,
    zrange: async () => {
      calls++
      if (calls < 3) throw new Error('Command timed out')
      loaded()
      return ['t\nlate', String(Date.now() + 60_000)]
    },
  })
  const list = new RevocationList(10, Date.now)
  const sync = new RevocationSync({ redis: client as never, prefix: 'p:', log: app.log, list, now: Date.now, retryMs: 5 })
  await sync.start()
  await done
  await sleep(5)
  t.equal(calls, 3, 'two failures, then the load that found the entry')
  t.ok(list.revoked('late', undefined, undefined), 'the entry written while away is enforced')
  await sleep(30)
  t.equal(calls, 3, 'a successful load schedules nothing more')

  // Failing again, then closed before the retry is due: nothing runs after close.
  calls = 0
  client.zrange = async () => { calls++; throw new Error('Command timed out') }
  await sync.load()
  await sync.load() // a retry is already due: one timer, not two
  await sync.close()
  await sleep(30)
  t.equal(calls, 2, 'no retry after close')
})
