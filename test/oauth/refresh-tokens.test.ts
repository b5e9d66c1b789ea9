import fc from 'fast-check'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { MemoryRefreshStore, type RefreshStore, RedisRefreshStore } from '../../oauth/refresh-store.js'
import { createRefreshTokens, hashToken, type RefreshTokens } from '../../oauth/refresh-tokens.js'
import { caught } from '../helpers.js'
import { REDIS_URL, skipRedis, uniquePrefix } from '../redis-helpers.js'

// Property runs and Redis round trips: more than tap's default 30 s on a loaded machine.
t.setTimeout(120_000)

const HOUR = 3_600_000
const MINUTE = 60_000

type MakeStore = (now: () => number) => RefreshStore

interface Setup {
  tokens: RefreshTokens
  store: RefreshStore
  clock: { now: number }
}

// Short lifetimes: the Redis keys these tests leave behind are gone within the hour.
function setup (make: MakeStore): Setup {
  const clock = { now: 1_000_000 }
  const now = () => clock.now
  const store = make(now)
  return { tokens: createRefreshTokens({ store, absoluteLifetime: '1h', idleLifetime: '10m', now }), store, clock }
}

async function invalidGrant (t: Test, promise: Promise<unknown>, description: string | RegExp): Promise<void> {
  const err = await caught(() => promise)
  t.match(err, { code: 'FST_RAMPART_OAUTH_INVALID_GRANT', statusCode: 400, error: 'invalid_grant', error_description: description }, String(description))
}

/** How many of `tokens` the store holds as active in a live family. */
async function activeCount (store: RefreshStore, tokens: string[]): Promise<number> {
  let n = 0
  for (const token of tokens) {
    const found = await store.find(hashToken(token))
    if (found?.status === 'active' && !found.familyRevoked) n++
  }
  return n
}

// The same behaviour on every store.
function behaves (t: Test, make: MakeStore, { runs }: { runs: number }): void {
  t.test('issue returns an opaque token, its family and expiries; the store keeps only its hash', async (t) => {
    const { tokens, store, clock } = setup(make)
    const issued = await tokens.issue({ clientId: 'app', userId: 'u1', scope: ['openid', 'offline_access'] })
    t.match(issued, { token: /^[A-Za-z0-9_-]{43}$/, familyId: /^[A-Za-z0-9_-]{22}$/ })
    t.same(Buffer.from(issued.token, 'base64url').length, 32)
    t.equal(issued.expiresAt, clock.now + 10 * MINUTE)
    t.equal(issued.familyExpiresAt, clock.now + HOUR)
    const found = await store.find(hashToken(issued.token))
    t.same(found, {
      status: 'active',
      familyRevoked: false,
      record: {
        familyId: issued.familyId,
        clientId: 'app',
        parent: null,
        issuedAt: clock.now,
        expiresAt: issued.expiresAt,
        familyExpiresAt: issued.familyExpiresAt,
        grant: JSON.stringify({ clientId: 'app', userId: 'u1', scope: ['openid', 'offline_access'] }),
      },
    })
    t.equal(await store.find(issued.token), undefined, 'not findable by the token itself')
  })

  t.test('rotate returns the next token of the family with the grant; the old one is consumed', async (t) => {
    const { tokens, store, clock } = setup(make)
    const rt1 = await tokens.issue({ clientId: 'app', userId: 'u1' })
    clock.now += MINUTE
    const rt2 = await tokens.rotate(rt1.token, { clientId: 'app' })
    t.same(rt2.grant, { clientId: 'app', userId: 'u1' })
    t.equal(rt2.familyId, rt1.familyId)
    t.not(rt2.token, rt1.token)
    t.equal(rt2.expiresAt, clock.now + 10 * MINUTE, 'idle time starts again')
    t.equal(rt2.familyExpiresAt, rt1.familyExpiresAt, 'the family keeps its absolute expiry')
    t.match(await store.find(hashToken(rt1.token)), { status: 'consumed', familyRevoked: false })
    t.match(await store.find(hashToken(rt2.token)), { status: 'active', record: { parent: hashToken(rt1.token) } })
    const rt3 = await tokens.rotate(rt2.token, { clientId: 'app' })
    t.same(rt3.grant, { clientId: 'app', userId: 'u1' })
  })

  t.test('RT1 → RT2, then RT1 again revokes the family: RT2 fails too', async (t) => {
    const { tokens, store } = setup(make)
    const rt1 = await tokens.issue({ clientId: 'app', userId: 'u1' })
    const rt2 = await tokens.rotate(rt1.token, { clientId: 'app' })
    await invalidGrant(t, tokens.rotate(rt1.token, { clientId: 'app' }), 'refresh token already used')
    t.match(await store.find(hashToken(rt2.token)), { familyRevoked: true })
    await invalidGrant(t, tokens.rotate(rt2.token, { clientId: 'app' }), 'refresh token revoked')
    await invalidGrant(t, tokens.rotate(rt1.token, { clientId: 'app' }), 'refresh token revoked')
    t.equal(await tokens.revokeFamily(rt1.familyId), false, 'already revoked')
  })

  t.test('50 parallel rotations of one token: at most one succeeds, and the family is then revoked', async (t) => {
    const { tokens, store } = setup(make)
    const rt1 = await tokens.issue({ clientId: 'app', userId: 'u1' })
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => tokens.rotate(rt1.token, { clientId: 'app' })))
    const won = results.filter((r) => r.status === 'fulfilled')
    t.ok(won.length <= 1, `${won.length} succeeded`)
    for (const r of results) if (r.status === 'rejected') t.equal(r.reason.code, 'FST_RAMPART_OAUTH_INVALID_GRANT')
    t.match(await store.find(hashToken(rt1.token)), { familyRevoked: true }, 'the race is itself a reuse')
    for (const r of won) await invalidGrant(t, tokens.rotate(r.value.token, { clientId: 'app' }), 'refresh token revoked')
  })

  t.test('a token for another client is refused without revoking its family', async (t) => {
    const { tokens } = setup(make)
    const rt1 = await tokens.issue({ clientId: 'app', userId: 'u1' })
    await invalidGrant(t, tokens.rotate(rt1.token, { clientId: 'other' }), 'client mismatch')
    await invalidGrant(t, tokens.rotate(rt1.token, {} as { clientId: string }), 'client mismatch')
    const rt2 = await tokens.rotate(rt1.token, { clientId: 'app' })
    t.ok(rt2.token, 'the rightful client still rotates')
    await invalidGrant(t, tokens.rotate(rt1.token, { clientId: 'other' }), 'client mismatch')
    t.ok(await tokens.rotate(rt2.token, { clientId: 'app' }), 'even a consumed token from another client revokes nothing')
  })

  t.test('a token idle longer than idleLifetime is refused', async (t) => {
    const { tokens, clock } = setup(make)
    const rt1 = await tokens.issue({ clientId: 'app' })
    clock.now += 10 * MINUTE - 1
    const rt2 = await tokens.rotate(rt1.token, { clientId: 'app' })
    clock.now += 10 * MINUTE
    await invalidGrant(t, tokens.rotate(rt2.token, { clientId: 'app' }), 'refresh token is expired')
  })

  t.test('a family older than absoluteLifetime is refused, however recently rotated', async (t) => {
    const { tokens, clock } = setup(make)
    const rt1 = await tokens.issue({ clientId: 'app' })
    let current = rt1.token
    for (let i = 0; i < 6; i++) {
      clock.now += 9 * MINUTE
      const next = await tokens.rotate(current, { clientId: 'app' })
      current = next.token
      t.ok(next.expiresAt <= rt1.familyExpiresAt, 'a token never outlives its family')
    }
    clock.now = rt1.familyExpiresAt - 1
    const last = await tokens.rotate(current, { clientId: 'app' })
    t.equal(last.expiresAt, rt1.familyExpiresAt)
    clock.now = rt1.familyExpiresAt
    // Memory has dropped the family by now (its TTL runs on the same clock); Redis, on real time, still holds it.
    await invalidGrant(t, tokens.rotate(last.token, { clientId: 'app' }), /^refresh token (is expired|not found)$/)
  })

  t.test('a consumed token is reuse even after its own idle time', async (t) => {
    const { tokens, store, clock } = setup(make)
    const rt1 = await tokens.issue({ clientId: 'app' })
    clock.now += 5 * MINUTE
    const rt2 = await tokens.rotate(rt1.token, { clientId: 'app' })
    clock.now += 6 * MINUTE
    await invalidGrant(t, tokens.rotate(rt1.token, { clientId: 'app' }), 'refresh token already used')
    t.match(await store.find(hashToken(rt2.token)), { familyRevoked: true })
  })

  t.test('revokeFamily ends a family; unknown families and tokens are refused', async (t) => {
    const { tokens } = setup(make)
    const rt1 = await tokens.issue({ clientId: 'app' })
    const other = await tokens.issue({ clientId: 'app' })
    t.equal(await tokens.revokeFamily(rt1.familyId), true)
    await invalidGrant(t, tokens.rotate(rt1.token, { clientId: 'app' }), 'refresh token revoked')
    t.ok(await tokens.rotate(other.token, { clientId: 'app' }), 'other families live on')
    t.equal(await tokens.revokeFamily('no-such-family'), false)
    t.equal(await tokens.revokeFamily(''), false)
    t.equal(await tokens.revokeFamily(42 as unknown as string), false)
    for (const bad of ['x'.repeat(43), 'short', `${rt1.token}=`, 42, undefined, { token: rt1.token }]) {
      await invalidGrant(t, tokens.rotate(bad, { clientId: 'app' }), 'refresh token not found')
    }
  })

  t.test('property: a family never has two active tokens, whatever the clients do', async (t) => {
    const command = fc.oneof(
      fc.record({ op: fc.constant('rotate' as const), pick: fc.nat(), client: fc.constantFrom('app', 'app', 'app', 'other'), parallel: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 12 * MINUTE }) }),
      fc.record({ op: fc.constant('revoke' as const) })
    )
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 12 }), async (commands) => {
        const { tokens, store, clock } = setup(make)
        const first = await tokens.issue({ clientId: 'app' })
        const seen = [first.token]
        for (const c of commands) {
          if (c.op === 'wait') clock.now += c.ms
          else if (c.op === 'revoke') await tokens.revokeFamily(first.familyId)
          else {
            const token = seen[c.pick % seen.length]
            const results = await Promise.allSettled(Array.from({ length: c.parallel }, () => tokens.rotate(token, { clientId: c.client })))
            for (const r of results) {
              if (r.status === 'fulfilled') seen.push(r.value.token)
              else if (r.reason.code !== 'FST_RAMPART_OAUTH_INVALID_GRANT') throw r.reason
            }
          }
          if ((await activeCount(store, seen)) > 1) return false
        }
        return true
      }),
      { seed: 20260516, numRuns: runs }
    )
    t.pass('held for every generated history')
  })
}

t.test('memory store', async (t) => {
  behaves(t, (now) => new MemoryRefreshStore({ now }), { runs: 100 })

  t.test('the default store is memory, with the clock given to createRefreshTokens', async (t) => {
    let now = 0
    const tokens = createRefreshTokens({ idleLifetime: 1000, absoluteLifetime: 5000, now: () => now })
    const rt1 = await tokens.issue({ clientId: 'app' })
    t.equal(rt1.expiresAt, 1000)
    now = 999
    const rt2 = await tokens.rotate(rt1.token, { clientId: 'app' })
    now = 5000
    await invalidGrant(t, tokens.rotate(rt2.token, { clientId: 'app' }), 'refresh token not found')
    await tokens.close()
  })

  t.test('default lifetimes: 14 days idle, 30 days absolute', async (t) => {
    const tokens = createRefreshTokens({ now: () => 0 })
    t.match(await tokens.issue({ clientId: 'app' }), { expiresAt: 14 * 24 * HOUR, familyExpiresAt: 30 * 24 * HOUR })
  })

  t.test('the memory store is bounded: the oldest tokens go first', async (t) => {
    const store = new MemoryRefreshStore({ maxKeys: 2 })
    const tokens = createRefreshTokens({ store })
    const a = await tokens.issue({ clientId: 'app' })
    const b = await tokens.issue({ clientId: 'app' })
    const c = await tokens.issue({ clientId: 'app' })
    await invalidGrant(t, tokens.rotate(a.token, { clientId: 'app' }), 'refresh token not found')
    t.ok(await tokens.rotate(b.token, { clientId: 'app' }))
    t.ok(await tokens.rotate(c.token, { clientId: 'app' }))
  })

  t.test('past the family\'s absolute expiry even a consumed token is only expired, whatever the store still holds', async (t) => {
    // The store on the real clock keeps the family; the issuer's clock has moved past its end.
    const clock = { now: Date.now() }
    const store = new MemoryRefreshStore()
    const tokens = createRefreshTokens({ store, absoluteLifetime: '1h', now: () => clock.now })
    const rt1 = await tokens.issue({ clientId: 'app' })
    const rt2 = await tokens.rotate(rt1.token, { clientId: 'app' })
    clock.now = rt1.familyExpiresAt
    await invalidGrant(t, tokens.rotate(rt1.token, { clientId: 'app' }), 'refresh token is expired')
    await invalidGrant(t, tokens.rotate(rt2.token, { clientId: 'app' }), 'refresh token is expired')
    t.match(await store.find(hashToken(rt2.token)), { status: 'active', familyRevoked: false })
  })

  t.test('a token whose family was evicted before it is unknown', async (t) => {
    const store = new MemoryRefreshStore({ maxKeys: 2 })
    const tokens = createRefreshTokens({ store })
    const a1 = await tokens.issue({ clientId: 'app' })
    await tokens.issue({ clientId: 'app' })
    const a2 = await tokens.rotate(a1.token, { clientId: 'app' })
    await tokens.issue({ clientId: 'app' })
    t.equal(await store.find(hashToken(a2.token)), undefined)
    await invalidGrant(t, tokens.rotate(a2.token, { clientId: 'app' }), 'refresh token not found')
  })

  t.test('a store that loses the token between find and rotate makes it unknown', async (t) => {
    const store = new MemoryRefreshStore()
    const tokens = createRefreshTokens({ store })
    const rt1 = await tokens.issue({ clientId: 'app' })
    store.rotate = async () => 'missing'
    await invalidGrant(t, tokens.rotate(rt1.token, { clientId: 'app' }), 'refresh token not found')
    t.equal(await new MemoryRefreshStore().rotate('h', 'n', { familyId: 'nope' } as never, 1), 'missing')
  })
})

t.test('Redis store, shared by two clients', { skip: skipRedis }, async (t) => {
  const a = new Redis(REDIS_URL)
  const b = new Redis(REDIS_URL)
  t.teardown(() => { a.disconnect(); b.disconnect() })
  const prefix = uniquePrefix('refresh')
  let n = 0
  // Alternate the two clients, as two instances would.
  behaves(t, () => new RedisRefreshStore({ redis: n++ % 2 === 0 ? a : b, prefix }), { runs: 25 })

  t.test('50 parallel rotations through two instances: at most one succeeds', async (t) => {
    const one = createRefreshTokens({ store: new RedisRefreshStore({ redis: a, prefix }), absoluteLifetime: '1h' })
    const two = createRefreshTokens({ store: new RedisRefreshStore({ redis: b, prefix }), absoluteLifetime: '1h' })
    const rt1 = await one.issue({ clientId: 'app' })
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? one : two).rotate(rt1.token, { clientId: 'app' })))
    t.ok(results.filter((r) => r.status === 'fulfilled').length <= 1)
    t.equal(await one.revokeFamily(rt1.familyId), false, 'already revoked by the race')
  })
})
