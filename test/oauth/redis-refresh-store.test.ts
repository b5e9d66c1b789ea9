import { Redis } from 'ioredis'
import t from 'tap'
import { RedisRefreshStore } from '../../oauth/refresh-store.js'
import { createRefreshTokens, hashToken } from '../../oauth/refresh-tokens.js'
import { caught } from '../helpers.js'
import { freePort, REDIS_URL, skipRedis, startRedis, uniquePrefix } from '../redis-helpers.js'

// Property runs and Redis round trips: more than tap's default 30 s on a loaded machine.
t.setTimeout(120_000)

t.test('keys are hash-tagged by family (and the lookup by token hash) and expire with the family', { skip: skipRedis }, async (t) => {
  const client = new Redis(REDIS_URL)
  t.teardown(() => client.disconnect())
  const prefix = uniquePrefix('rt-keys')
  const store = new RedisRefreshStore({ redis: client, prefix })
  const tokens = createRefreshTokens({ store: { redis: client, prefix }, absoluteLifetime: '1h' })
  const rt1 = await tokens.issue({ clientId: 'app', userId: 'u1' })
  const rt2 = await tokens.rotate(rt1.token, { clientId: 'app' })
  const familyKey = `${prefix}f:{${rt1.familyId}}`
  t.equal(store.familyKey(rt1.familyId), familyKey)
  t.same(await client.hgetall(familyKey), { status: 'active', [`t:${hashToken(rt1.token)}`]: 'consumed', [`t:${hashToken(rt2.token)}`]: 'active' })
  const pttl = await client.pttl(familyKey)
  t.ok(pttl > 3_590_000 && pttl <= 3_600_000, `family TTL ${pttl}`)
  const tokenKey = `${prefix}t:{${hashToken(rt2.token)}}`
  t.equal(store.tokenKey(hashToken(rt2.token)), tokenKey)
  t.match(JSON.parse(await client.get(tokenKey) as string), { familyId: rt1.familyId, clientId: 'app', parent: hashToken(rt1.token) })
  t.ok(await client.pttl(tokenKey) > 3_590_000)
  t.equal(await client.exists(`${prefix}t:{${rt1.token}}`), 0, 'the token itself is never a key')
  t.equal(store.familyKey('a{b}'), `${prefix}f:{a%7Bb%7D}`)
  await tokens.close()
  t.equal(client.status, 'ready', 'a client you pass is left open')
})

t.test('a record without its family, or unknown to its family, is not found', { skip: skipRedis }, async (t) => {
  const client = new Redis(REDIS_URL)
  t.teardown(() => client.disconnect())
  const prefix = uniquePrefix('rt-orphan')
  const store = new RedisRefreshStore({ redis: client, prefix })
  const tokens = createRefreshTokens({ store, absoluteLifetime: '1h' })
  const rt = await tokens.issue({ clientId: 'app' })
  const record = await client.get(store.tokenKey(hashToken(rt.token)))
  await client.set(store.tokenKey('stray'), record as string, 'PX', 60_000)
  t.equal(await store.find('stray'), undefined, 'the family does not list it')
  await client.del(store.familyKey(rt.familyId))
  t.equal(await store.find(hashToken(rt.token)), undefined, 'the family is gone')
})

t.test('losers of a race leave no lookup key behind', { skip: skipRedis }, async (t) => {
  const client = new Redis(REDIS_URL)
  t.teardown(() => client.disconnect())
  const prefix = uniquePrefix('rt-race')
  const tokens = createRefreshTokens({ store: { redis: client, prefix }, absoluteLifetime: '1h' })
  const rt1 = await tokens.issue({ clientId: 'app' })
  await Promise.allSettled(Array.from({ length: 10 }, () => tokens.rotate(rt1.token, { clientId: 'app' })))
  const keys = await client.keys(`${prefix}t:*`)
  t.ok(keys.length <= 2, `${keys.length} token keys`)
})

t.test('from a URL: connects, works, and close() closes it', { skip: skipRedis }, async (t) => {
  const tokens = createRefreshTokens({ store: { redis: REDIS_URL, prefix: uniquePrefix('rt-url') }, absoluteLifetime: '1h' })
  const rt1 = await tokens.issue({ clientId: 'app' })
  t.ok(await tokens.rotate(rt1.token, { clientId: 'app' }))
  await tokens.close()
})

t.test('a Redis that is down: calls fail fast with the store error, not invalid_grant, and errors are logged', async (t) => {
  const port = await freePort()
  const lines: unknown[] = []
  const log = { error: (...args: unknown[]) => { lines.push(args) } }
  const tokens = createRefreshTokens({ store: { redis: `redis://127.0.0.1:${port}`, timeoutMs: 200 }, log })
  t.teardown(() => tokens.close())
  const err = await caught(() => tokens.issue({ clientId: 'app' }))
  t.not(err.code, 'FST_RAMPART_OAUTH_INVALID_GRANT')
  t.ok(lines.length >= 1, 'the connection error was logged')
  t.match(lines[0], [{ err: { code: 'ECONNREFUSED' } }, 'fastify-rampart: the refresh token Redis connection failed'])
})

t.test('without a log option, connection errors go to console.error', async (t) => {
  const port = await freePort()
  const printed: string[] = []
  const original = console.error
  console.error = (msg: string) => { printed.push(msg) }
  t.teardown(() => { console.error = original })
  const store = new RedisRefreshStore({ redis: `redis://127.0.0.1:${port}`, timeoutMs: 100 })
  t.teardown(() => store.close())
  await caught(() => store.find('x'))
  t.same(printed.slice(0, 1), ['fastify-rampart: the refresh token Redis connection failed'])
})

t.test('a Redis that comes back: the store recovers without a restart', { skip: skipRedis }, async (t) => {
  const port = await freePort()
  const tokens = createRefreshTokens({ store: { redis: `redis://127.0.0.1:${port}`, timeoutMs: 500 }, log: { error: () => {} }, absoluteLifetime: '1h' })
  t.teardown(() => tokens.close())
  await caught(() => tokens.issue({ clientId: 'app' }))
  const server = await startRedis(port)
  t.teardown(() => { server.kill('SIGKILL') })
  let issued
  // Bounded: reconnects within a second (retryStrategy caps at 1000 ms).
  for (let i = 0; i < 40 && issued === undefined; i++) {
    issued = await tokens.issue({ clientId: 'app' }).catch(async () => {
      await new Promise((resolve) => setTimeout(resolve, 100))
      return undefined
    })
  }
  t.ok(issued, 'issued once Redis is up')
})
