import t from 'tap'
import { BoundedMap } from '../../lib/bounded-map.js'

function clock (start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start
  return { now: () => time, advance: (ms) => { time += ms } }
}

t.test('entries live for their TTL and are dropped on read after it', async (t) => {
  const c = clock()
  const map = new BoundedMap<string>({ maxKeys: 10, now: c.now })
  t.ok(map.set('a', 'x', 1000))
  t.equal(map.get('a'), 'x')
  t.equal(map.ttl('a'), 1000)
  c.advance(999)
  t.equal(map.get('a'), 'x')
  c.advance(1)
  t.equal(map.ttl('a'), 0)
  t.equal(map.get('a'), undefined)
  t.equal(map.size, 0)
  t.equal(map.ttl('missing'), 0)
})

t.test('setIfAbsent only writes over nothing or an expired entry', async (t) => {
  const c = clock()
  const map = new BoundedMap<number>({ maxKeys: 10, now: c.now })
  t.ok(map.setIfAbsent('k', 1, 100))
  t.notOk(map.setIfAbsent('k', 2, 100))
  t.equal(map.get('k'), 1)
  c.advance(100)
  t.ok(map.setIfAbsent('k', 3, 100))
  t.equal(map.get('k'), 3)
})

t.test('a full map drops expired entries first, then the oldest evictable one', async (t) => {
  const c = clock()
  const map = new BoundedMap<number>({ maxKeys: 3, now: c.now })
  map.set('old', 1, 10_000)
  map.set('short', 2, 10)
  map.set('new', 3, 10_000)
  c.advance(10)
  // 'old' is first in line and evictable: it goes (expired 'short' would too).
  t.ok(map.set('d', 4, 10_000))
  t.same([...map.entries()].map(([k]) => k), ['new', 'd'])
  t.ok(map.set('e', 5, 10_000))
  t.equal(map.size, 3)
  // Overwriting a key needs no room.
  t.ok(map.set('e', 6, 10_000))
  t.equal(map.size, 3)
})

t.test('entries that may not be evicted are kept, and moved out of the scan\'s way', async (t) => {
  const c = clock()
  const map = new BoundedMap<{ pinned: boolean }>({ maxKeys: 100, now: c.now, canEvict: (v) => !v.pinned })
  // 80 pinned entries in front of 20 evictable ones: more than one scan's worth.
  for (let i = 0; i < 80; i++) map.set(`p${i}`, { pinned: true }, 60_000)
  for (let i = 0; i < 20; i++) map.set(`f${i}`, { pinned: false }, 60_000)
  t.notOk(map.set('x', { pinned: false }, 60_000), 'the first scan meets only pinned entries')
  t.ok(map.set('y', { pinned: false }, 60_000), 'the next scan starts past them and finds room')
  t.equal(map.get('f0'), undefined)
  for (let i = 0; i < 80; i++) t.ok(map.get(`p${i}`), `pinned p${i} kept`)
  map.delete('y')
  map.clear()
  t.equal(map.size, 0)
})

t.test('a map that can hold nothing stores nothing', async (t) => {
  const map = new BoundedMap<number>({ maxKeys: 0 })
  t.notOk(map.set('a', 1, 1000))
  t.equal(map.size, 0)
})

t.test('the default clock is Date.now, read late', async (t) => {
  const map = new BoundedMap<number>({ maxKeys: 1 })
  map.set('a', 1, 60_000)
  t.equal(map.get('a'), 1)
  const ttl = map.ttl('a')
  t.ok(ttl > 59_000 && ttl <= 60_000)
})
