import t from 'tap'
import { rateLimitPlugin } from '../../index.js'
import { MemoryStore } from '../../plugins/rate-limit/memory-store.js'
import { captureLogs, makeApp } from '../helpers.js'
import { fakeClock } from './helpers.js'

// Issue 10, item 2: eviction looked at the 32 least recently used keys only,
// and a refused request never moved its key, so 32 limited keys at the front
// of the LRU locked out every newcomer while the store was almost all
// evictable keys.

const LOGIN = { limit: 1, windowMs: 15 * 60_000, burst: 1 }
const HOME = { limit: 1000, windowMs: 60_000, burst: 1000 }
const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`

t.test('32 limited keys at the front of the LRU do not lock out 100k newcomers', async (t) => {
  const clock = fakeClock()
  let full = 0
  const store = new MemoryStore({ maxKeys: 100_000, now: clock.now, onFull: () => full++ })
  for (let i = 0; i < 32; i++) {
    t.ok(store.consume(`login|ip|${ip(i)}`, LOGIN, 1).allowed)
    t.notOk(store.consume(`login|ip|${ip(i)}`, LOGIN, 1).allowed)
  }
  let refused = 0
  for (let i = 1000; i < 101_000; i++) {
    if ((i & 1023) === 0) clock.advance(1)
    if (!store.consume(`default|ip|${ip(i)}`, HOME, 1).allowed) refused++
  }
  t.equal(refused, 0, 'every newcomer got in')
  t.equal(full, 0, 'the store never reported itself full of limited clients')
  t.equal(store.size, 100_000)
  for (let i = 0; i < 32; i++) t.notOk(store.consume(`login|ip|${ip(i)}`, LOGIN, 1).allowed, 'limited keys kept their state')
})

t.test('limited keys are never evicted; when only limited keys are left, newcomers are refused', async (t) => {
  const clock = fakeClock(0)
  let full = 0
  const store = new MemoryStore({ maxKeys: 40, now: clock.now, onFull: () => full++ })
  for (let i = 0; i < 40; i++) store.consume(`l${i}`, LOGIN, 1)
  for (let i = 0; i < 100; i++) t.notOk(store.consume(`new${i}`, HOME, 1).allowed)
  t.equal(full, 1)
  for (let i = 0; i < 40; i++) t.notOk(store.consume(`l${i}`, LOGIN, 1).allowed, `l${i} still limited`)
  clock.advance(LOGIN.windowMs)
  t.ok(store.consume('late', HOME, 1).allowed, 'room again once limited keys expire')
})

t.test('a key freed by time deep in the limited list is found, over a few insertions', async (t) => {
  const clock = fakeClock(0)
  const store = new MemoryStore({ maxKeys: 100, now: clock.now })
  const short = { limit: 1, windowMs: 1000, burst: 1 }
  // 99 long-limited keys ahead of one short-limited key.
  for (let i = 0; i < 99; i++) store.consume(`long${i}`, LOGIN, 1)
  store.consume('short', { limit: 2, windowMs: 2000, burst: 2 }, 2)
  clock.advance(1000)
  // 'short' is no longer limited but not expired: it must become evictable once the scan reaches it.
  let allowed = 0
  for (let i = 0; i < 4; i++) if (store.consume(`new${i}`, short, 1).allowed) allowed++
  t.equal(allowed, 1, 'the one freed key made room; the long-limited ones stayed')
  t.equal(store.size, 100)
  for (let i = 0; i < 99; i++) t.notOk(store.consume(`long${i}`, LOGIN, 1).allowed)
})

t.test('through the plugin: a limited /login crowd does not lock newcomers out of /', async (t) => {
  // The scenario scaled down 100x: maxKeys 1000, 32 limited IPs, then 1000 newcomers.
  const clock = fakeClock()
  const logs = captureLogs()
  const app = makeApp(t, { logger: { level: 'error', stream: logs.stream } })
  await app.register(rateLimitPlugin, { limit: 1000, window: '1m', maxKeys: 1000, now: clock.now })
  app.get('/login', { config: { security: { rateLimit: { limit: 1, window: '15m' } } } }, async () => 'login')
  app.get('/', async () => 'home')
  for (let i = 0; i < 32; i++) {
    const codes = []
    for (let j = 0; j < 2; j++) codes.push((await app.inject({ url: '/login', remoteAddress: ip(i) })).statusCode)
    t.same(codes, [200, 429])
  }
  const codes = new Map<number, number>()
  for (let i = 1000; i < 2000; i++) {
    const res = await app.inject({ url: '/', remoteAddress: ip(i) })
    codes.set(res.statusCode, (codes.get(res.statusCode) ?? 0) + 1)
  }
  t.same([...codes], [[200, 1000]])
  t.same(logs.lines.filter((l) => /full of limited/.test(l.msg)), [])
  t.equal((await app.inject({ url: '/login', remoteAddress: ip(0) })).statusCode, 429, 'still limited')
})
