import t from 'tap'
import { MemoryStore } from '../../plugins/rate-limit/memory-store.js'
import { fakeClock } from './helpers.js'

const P = { limit: 2, windowMs: 2000, burst: 2 }

t.test('keys are independent and replenish with time', async (t) => {
  const clock = fakeClock(0)
  const store = new MemoryStore({ maxKeys: 10, now: clock.now })
  t.ok(store.consume('a', P, 1).allowed)
  t.ok(store.consume('a', P, 1).allowed)
  t.notOk(store.consume('a', P, 1).allowed)
  t.ok(store.consume('b', P, 1).allowed)
  clock.advance(1000)
  t.ok(store.consume('a', P, 1).allowed)
  t.equal(store.size, 2)
})

t.test('the default clock is Date.now', async (t) => {
  const store = new MemoryStore({ maxKeys: 1 })
  t.ok(store.consume('a', P, 2).allowed)
  t.notOk(store.consume('a', P, 1).allowed)
})

t.test('a denied request does not change the stored time', async (t) => {
  const clock = fakeClock(0)
  const store = new MemoryStore({ maxKeys: 10, now: clock.now })
  store.consume('a', P, 2)
  for (let i = 0; i < 5; i++) store.consume('a', P, 1)
  clock.advance(1000)
  t.ok(store.consume('a', P, 1).allowed, 'denied attempts did not push the time further')
})

t.test('when full, expired keys go first', async (t) => {
  const clock = fakeClock(0)
  const store = new MemoryStore({ maxKeys: 2, now: clock.now })
  store.consume('old', P, 1)
  clock.advance(5000)
  store.consume('busy', P, 2)
  t.ok(store.consume('new', P, 1).allowed)
  t.equal(store.size, 2)
  t.notOk(store.consume('busy', P, 1).allowed, 'the limited key kept its state')
})

t.test('when full, the idle key closest to expiry is evicted, never a limited one', async (t) => {
  const clock = fakeClock(0)
  const store = new MemoryStore({ maxKeys: 3, now: clock.now })
  store.consume('limited', P, 2) // no room left
  store.consume('light', P, 1) // one unit used, expires at 1000
  clock.advance(10)
  store.consume('lighter', P, 1) // expires at 1010
  t.ok(store.consume('new', P, 1).allowed)
  t.equal(store.size, 3)
  t.notOk(store.consume('limited', P, 1).allowed, 'still limited')
  t.ok(store.consume('light', P, 1).allowed && store.consume('light', P, 1).allowed, 'light was evicted: a fresh bucket')
})

t.test('when every candidate is limited, new keys are refused and it is reported once', async (t) => {
  const clock = fakeClock(0)
  let reports = 0
  const store = new MemoryStore({ maxKeys: 2, now: clock.now, onFull: () => reports++ })
  store.consume('a', P, 2)
  store.consume('b', P, 2)
  const refused = store.consume('c', P, 1)
  t.same(refused, { allowed: false, debtMs: 0, remaining: 0, resetMs: 1000, retryAfterMs: 1000 })
  store.consume('d', P, 1)
  t.equal(reports, 1)
  t.notOk(store.consume('a', P, 1).allowed, 'old limited keys were not reset')
  clock.advance(1000)
  t.ok(store.consume('c', P, 1).allowed, 'room again once a key is no longer limited')
})

t.test('heap stays flat while a /48 cycles through a million /64s', async (t) => {
  const clock = fakeClock(0)
  const store = new MemoryStore({ maxKeys: 1000, now: clock.now })
  const params = { limit: 100, windowMs: 60_000, burst: 100 }
  globalThis.gc?.()
  const before = process.memoryUsage().heapUsed
  for (let i = 0; i < 1_000_000; i++) {
    store.consume(`default|ip|2001:db8:1:${(i & 0xffff).toString(16)}:${(i >> 16).toString(16)}::/64`, params, 1)
    if ((i & 1023) === 0) clock.advance(1)
  }
  t.equal(store.size, 1000, 'never more than maxKeys')
  const grown = process.memoryUsage().heapUsed - before
  t.ok(grown < 50 * 1024 * 1024, `heap grew ${Math.round(grown / 1024)} KiB for a million keys`)
})
