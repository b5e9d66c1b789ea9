import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { type Deadline, Deadlines, withTimeout } from '../../lib/with-timeout.js'

// Deadlines bounds every store call with one shared timer (lib/with-timeout.ts).
// Real timers with short bounds: the tests check what expires, never how fast.

const expired = (ms: number) => ({ message: `store did not answer within ${ms} ms` })

t.test('an answer before the deadline passes through, value or error', async (t) => {
  const deadlines = new Deadlines(1000)
  t.equal(await deadlines.bound(Promise.resolve(42)), 42)
  await t.rejects(deadlines.bound(Promise.reject(new Error('boom'))), { message: 'boom' })
  const thenable = { then: (resolve: (v: string) => void) => resolve('any thenable') } as unknown as PromiseLike<string>
  t.equal(await deadlines.bound(thenable), 'any thenable', 'a second wait after the queue drained')
})

t.test('a wait that never settles is rejected with the timeout error', async (t) => {
  const deadlines = new Deadlines(20)
  await t.rejects(deadlines.bound(new Promise(() => {})), expired(20))
})

t.test('waits started later expire at their own deadline, after the timer is re-armed', async (t) => {
  const deadlines = new Deadlines(100)
  const order: string[] = []
  const first = deadlines.bound(new Promise(() => {})).catch(() => order.push('first'))
  await sleep(50)
  const second = deadlines.bound(new Promise(() => {})).catch(() => order.push('second'))
  const answered = deadlines.bound(Promise.resolve('in between'))
  t.equal(await answered, 'in between')
  await first
  t.same(order, ['first'], 'the second is still open when the first expires')
  await second
  t.same(order, ['first', 'second'])
})

t.test('settled waits behind an open one are skipped when it expires', async (t) => {
  const deadlines = new Deadlines(20)
  const calls: string[] = []
  deadlines.start(() => calls.push('open'))
  const settled = deadlines.start(() => calls.push('settled'))
  deadlines.settle(settled)
  await sleep(60)
  t.same(calls, ['open'])
})

t.test('a wait started from an expiry gets its own deadline', async (t) => {
  const deadlines = new Deadlines(20)
  const nested = new Promise<Error>((resolve) => {
    deadlines.start(() => deadlines.start(resolve))
  })
  t.match(await nested, expired(20))
})

t.test('a long queue of settled waits is compacted, and the open one behind them still expires', async (t) => {
  const deadlines = new Deadlines(50)
  const waits: Deadline[] = []
  for (let i = 0; i < 1100; i++) waits.push(deadlines.start(() => t.fail('settled waits never expire')))
  const open = new Promise<Error>((resolve) => deadlines.start(resolve))
  for (const wait of waits) deadlines.settle(wait)
  t.match(await open, expired(50))
})

t.test('withTimeout, the one-timer-per-call bound other stores use, says the same', async (t) => {
  t.equal(await withTimeout(Promise.resolve('answer'), 1000), 'answer')
  await t.rejects(withTimeout(new Promise(() => {}), 20), expired(20))
})
