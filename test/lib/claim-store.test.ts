import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { type ClaimStore, MemoryClaimStore, RedisClaimStore } from '../../lib/claim-store.js'
import { REDIS_URL, skipRedis, uniquePrefix } from '../redis-helpers.js'

// The same behaviour on both stores.
async function behaves (t: Test, make: () => ClaimStore): Promise<void> {
  t.test('a key is claimed once; the holder completes or releases it', async (t) => {
    const store = make()
    const first = await store.claim('delivery-1', 60_000)
    t.ok(first.claimed)
    t.same(await store.claim('delivery-1', 60_000), { claimed: false, state: 'pending' })
    if (!first.claimed) return
    t.notOk(await store.complete('delivery-1', 'someone-else', 60_000), 'only the owner completes')
    t.notOk(await store.release('delivery-1', 'someone-else'), 'only the owner releases')
    t.ok(await store.complete('delivery-1', first.owner, 60_000))
    t.same(await store.claim('delivery-1', 60_000), { claimed: false, state: 'done' })
    t.notOk(await store.release('delivery-1', first.owner), 'a completed claim is not released')
    t.notOk(await store.complete('delivery-1', first.owner, 60_000), 'nor completed twice')
  })

  t.test('a released claim can be claimed again, by a new owner', async (t) => {
    const store = make()
    const first = await store.claim('delivery-2', 60_000)
    if (!first.claimed) throw new Error('expected a claim')
    t.ok(await store.release('delivery-2', first.owner))
    const second = await store.claim('delivery-2', 60_000)
    t.ok(second.claimed)
    if (!second.claimed) return
    t.not(second.owner, first.owner)
    t.notOk(await store.release('delivery-2', first.owner), 'the first owner can no longer release it')
    t.ok(await store.complete('delivery-2', second.owner, 60_000))
  })

  t.test('concurrent claims of one key: exactly one wins', async (t) => {
    const store = make()
    const results = await Promise.all(Array.from({ length: 20 }, () => store.claim('race', 60_000)))
    t.equal(results.filter((r) => r.claimed).length, 1)
  })
}

t.test('memory claim store', async (t) => {
  await behaves(t, () => new MemoryClaimStore({ maxKeys: 100 }))

  t.test('pending claims expire after their time; done ones after theirs', async (t) => {
    let now = 0
    const store = new MemoryClaimStore({ maxKeys: 10, now: () => now })
    const a = await store.claim('a', 1000)
    if (!a.claimed) throw new Error('expected a claim')
    now = 1000
    const again = await store.claim('a', 1000)
    t.ok(again.claimed, 'a pending claim whose holder died frees itself')
    if (!again.claimed) return
    t.ok(await store.complete('a', again.owner, 5000))
    now = 5999
    t.same(await store.claim('a', 1000), { claimed: false, state: 'done' })
    now = 6000
    t.ok((await store.claim('a', 1000)).claimed)
  })

  t.test('a full store drops completed claims, never pending ones, and then refuses', async (t) => {
    const store = new MemoryClaimStore({ maxKeys: 2 })
    const done = await store.claim('done', 60_000)
    if (!done.claimed) throw new Error('expected a claim')
    await store.complete('done', done.owner, 60_000)
    await store.claim('pending', 60_000)
    t.ok((await store.claim('new', 60_000)).claimed, 'the completed claim made room')
    t.equal(store.size, 2)
    await t.rejects(store.claim('one-more', 60_000), /full of pending claims/)
    t.same(await store.claim('pending', 60_000), { claimed: false, state: 'pending' })
  })
})

t.test('Redis claim store, shared by two clients', { skip: skipRedis }, async (t) => {
  const a = new Redis(REDIS_URL)
  const b = new Redis(REDIS_URL)
  t.teardown(() => { a.disconnect(); b.disconnect() })
  const prefix = uniquePrefix('claims')
  let n = 0
  // Alternate the two clients, as two instances would.
  await behaves(t, () => new RedisClaimStore({ client: n++ % 2 === 0 ? a : b, prefix, timeoutMs: 1000 }))

  t.test('one instance claims, the other sees it, and keys are hash-tagged', async (t) => {
    const one = new RedisClaimStore({ client: a, prefix, timeoutMs: 1000 })
    const two = new RedisClaimStore({ client: b, prefix, timeoutMs: 1000 })
    const claim = await one.claim('x{y}', 60_000)
    t.ok(claim.claimed)
    t.same(await two.claim('x{y}', 60_000), { claimed: false, state: 'pending' })
    t.match(await a.get(`${prefix}{x%7By%7D}`), /^p:/)
    t.ok(await a.pttl(`${prefix}{x%7By%7D}`) > 59_000)
  })

  t.test('a key that vanishes between SET NX and GET reads as pending', async (t) => {
    const store = new RedisClaimStore({ client: a, prefix, timeoutMs: 1000 })
    // Simulate the race: the script's GET finds nothing.
    const stub = Object.create(a) as Redis & { rampartClaim: () => Promise<string> }
    stub.rampartClaim = async () => 'claimed-retry'
    const raced = new RedisClaimStore({ client: stub, prefix, timeoutMs: 1000 })
    t.same(await raced.claim('gone', 1000), { claimed: false, state: 'pending' })
    t.ok((await store.claim('gone', 1000)).claimed)
  })
})
