import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import type { GcraParams } from '../../plugins/rate-limit/gcra.js'
import { redisKey, RedisStore } from '../../plugins/rate-limit/redis-store.js'
import { REDIS_URL, skipRedis, uniquePrefix } from '../redis-helpers.js'

// Real Redis: checks of one event-loop iteration share one script call, and
// the answers are the ones one call per check would give.

const skip = skipRedis
const three: GcraParams = { limit: 3, windowMs: 60_000, burst: 3 }

function store (t: Test, prefix: string): RedisStore {
  // A generous bound: on a loaded machine a fallback would change the count.
  const s = new RedisStore({ redis: REDIS_URL, prefix, timeoutMs: 2000 })
  t.teardown(() => s.close())
  return s
}

t.test('limit 3, five concurrent checks: exactly 3 allowed, in order, in one call', { skip }, async (t) => {
  const s = store(t, uniquePrefix('five'))
  await s.ready(2000)
  let calls = 0
  const send = s.client.rampartGcraBatch.bind(s.client)
  s.client.rampartGcraBatch = (...args) => {
    calls++
    return send(...args)
  }
  const answers = await Promise.all(Array.from({ length: 5 }, () => s.consume('k', three, 1)))
  t.same(answers.map((a) => a.allowed), [true, true, true, false, false], 'the same key five times is charged in order')
  t.same(answers.map((a) => a.remaining), [2, 1, 0, 0, 0])
  t.equal(calls, 1, 'one script call for the iteration')
})

t.test('two instances, five concurrent checks each on one key: exactly 3 allowed', { skip }, async (t) => {
  const prefix = uniquePrefix('two')
  const a = store(t, prefix)
  const b = store(t, prefix)
  await Promise.all([a.ready(2000), b.ready(2000)])
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).consume('k', three, 1)))
  t.equal(answers.filter((d) => d.allowed).length, 3)
})

t.test('a reward in the same batch pays back the check before it, and an empty bucket has no key', { skip }, async (t) => {
  const prefix = uniquePrefix('reward')
  const s = store(t, prefix)
  await s.ready(2000)
  const [spent, rewarded, again] = await Promise.all([s.consume('k', three, 2), s.consume('k', three, -2), s.consume('k', three, 3)])
  t.same([spent.allowed, rewarded.allowed, again.allowed], [true, true, true])
  t.equal(again.remaining, 0)
  const [back] = await Promise.all([s.consume('k', three, -3), s.consume('other', three, 4)])
  t.equal(back.remaining, 3)
  t.equal(await s.client.exists(redisKey(prefix, 'k')), 0, 'deleted once paid off')
  t.equal(await s.client.exists(redisKey(prefix, 'other')), 0, 'a denied check writes nothing')
})

t.test('a key never expires while it still holds debt, and at most about a second after', { skip }, async (t) => {
  const prefix = uniquePrefix('expiry')
  const s = store(t, prefix)
  const probe = new Redis(REDIS_URL)
  t.teardown(() => probe.quit())
  await s.ready(2000)
  // Fast buckets keep their TAT within one second (the TTL is kept), slow ones cross seconds (PX).
  const buckets: GcraParams[] = [
    { limit: 1000, windowMs: 60_000, burst: 1000 },
    { limit: 20, windowMs: 1000, burst: 20 },
    { limit: 3, windowMs: 60_000, burst: 3 },
  ]
  for (let round = 0; round < 10; round++) {
    await Promise.all(buckets.flatMap((params, i) => [s.consume(`b${i}`, params, 1), s.consume(`b${i}`, params, round % 4 === 3 ? -1 : 1)]))
    for (let i = 0; i < buckets.length; i++) {
      const key = redisKey(prefix, `b${i}`)
      // One transaction: PTTL, GET and TIME at the same instant.
      const [[, pttl], [, tat], [, time]] = (await probe.multi().pttl(key).get(key).time().exec()) as [[null, number], [null, string | null], [null, [string, string]]]
      if (tat === null) continue
      const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000)
      const debt = Number(tat) - now
      t.ok(pttl >= debt, `round ${round}, bucket ${i}: TTL ${pttl} ms covers debt ${debt} ms`)
      t.ok(pttl <= debt + 1002, `round ${round}, bucket ${i}: TTL ${pttl} ms within a second of debt ${debt} ms`)
    }
  }
})
