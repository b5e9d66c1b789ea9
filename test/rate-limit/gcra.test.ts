import t from 'tap'
import { decide, decideAt, intervalMs } from '../../plugins/rate-limit/gcra.js'

// 10 requests per 10 s: one request is 1000 ms of debt; burst 10 holds 10 000 ms.
const TEN_PER_TEN = { limit: 10, windowMs: 10_000, burst: 10 }

t.test('the interval is window / limit', async (t) => {
  t.equal(intervalMs(TEN_PER_TEN), 1000)
  t.equal(intervalMs({ limit: 100, windowMs: 60_000, burst: 100 }), 600)
})

t.test('a fresh bucket allows, and counts down', async (t) => {
  t.same(decide(0, TEN_PER_TEN, 1), { allowed: true, debtMs: 1000, remaining: 9, resetMs: 1000, retryAfterMs: 0 })
  t.same(decide(8000, TEN_PER_TEN, 1), { allowed: true, debtMs: 9000, remaining: 1, resetMs: 9000, retryAfterMs: 0 })
  t.same(decide(9000, TEN_PER_TEN, 1), { allowed: true, debtMs: 10_000, remaining: 0, resetMs: 10_000, retryAfterMs: 0 })
})

t.test('a full bucket denies with the wait until one more fits', async (t) => {
  t.same(decide(10_000, TEN_PER_TEN, 1), { allowed: false, debtMs: 10_000, remaining: 0, resetMs: 1000, retryAfterMs: 1000 })
  t.same(decide(9500, TEN_PER_TEN, 1), { allowed: false, debtMs: 9500, remaining: 0, resetMs: 500, retryAfterMs: 500 })
})

t.test('a burst of the whole limit at once, then the sustained rate; no window edge', async (t) => {
  let tat: number | undefined
  let allowed = 0
  for (let i = 0; i < 15; i++) {
    const d = decideAt(tat, 0, TEN_PER_TEN, 1)
    if (d.allowed) {
      allowed++
      tat = 0 + d.debtMs
    }
  }
  t.equal(allowed, 10, '10 at t=0')
  t.equal(decideAt(tat, 999, TEN_PER_TEN, 1).allowed, false, 'nothing at 999 ms')
  const at1000 = decideAt(tat, 1000, TEN_PER_TEN, 1)
  t.same(at1000, { allowed: true, debtMs: 10_000, remaining: 0, resetMs: 10_000, retryAfterMs: 0 }, 'one more at 1000 ms')
  // 10 s after a full burst (a fixed window's edge) there is room for 9, not for another 10 on top of one just used.
  tat = 1000 + at1000.debtMs
  t.same(decideAt(tat, 10_000, TEN_PER_TEN, 1), { allowed: true, debtMs: 2000, remaining: 8, resetMs: 2000, retryAfterMs: 0 })
})

t.test('a smaller burst smooths traffic', async (t) => {
  const params = { limit: 60, windowMs: 60_000, burst: 2 }
  t.same(decide(0, params, 1), { allowed: true, debtMs: 1000, remaining: 1, resetMs: 1000, retryAfterMs: 0 })
  t.same(decide(1000, params, 1), { allowed: true, debtMs: 2000, remaining: 0, resetMs: 2000, retryAfterMs: 0 })
  t.same(decide(2000, params, 1), { allowed: false, debtMs: 2000, remaining: 0, resetMs: 1000, retryAfterMs: 1000 })
})

t.test('cost > 1 uses several units', async (t) => {
  t.same(decide(0, TEN_PER_TEN, 3), { allowed: true, debtMs: 3000, remaining: 7, resetMs: 3000, retryAfterMs: 0 })
  t.same(decide(8000, TEN_PER_TEN, 3), { allowed: false, debtMs: 8000, remaining: 2, resetMs: 1000, retryAfterMs: 1000 }, 'two left, three asked')
})

t.test('cost above the burst can never pass', async (t) => {
  t.same(decide(0, TEN_PER_TEN, 11), {
    allowed: false,
    debtMs: 0,
    remaining: 10,
    resetMs: Number.POSITIVE_INFINITY,
    retryAfterMs: Number.POSITIVE_INFINITY,
  })
})

t.test('fractional intervals do not drift past the capacity', async (t) => {
  const params = { limit: 7, windowMs: 60_000, burst: 7 }
  let debt = 0
  for (let i = 0; i < 7; i++) {
    const d = decide(debt, params, 1)
    t.ok(d.allowed, `request ${i + 1}`)
    debt = d.debtMs
  }
  t.equal(decide(debt, params, 1).allowed, false)
})

t.test('a TAT in the past is a fresh bucket', async (t) => {
  t.same(decideAt(5000, 9000, TEN_PER_TEN, 1), decide(0, TEN_PER_TEN, 1))
  t.same(decideAt(undefined, 9000, TEN_PER_TEN, 1), decide(0, TEN_PER_TEN, 1))
  t.same(decideAt(12_000, 9000, TEN_PER_TEN, 1), decide(3000, TEN_PER_TEN, 1))
})
