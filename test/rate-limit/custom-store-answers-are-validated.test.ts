import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { rateLimitPlugin, type RateLimitStore } from '../../index.js'
import { validDecision } from '../../plugins/rate-limit/store.js'
import { captureLogs } from '../helpers.js'
import { limitHeaders } from './helpers.js'

const good = { allowed: true, debtMs: 0, remaining: 4, resetMs: 1500, retryAfterMs: 0 }

async function answerOf (t: Test, answer: () => unknown) {
  const { stream, lines } = captureLogs()
  const app = Fastify({ logger: { stream, level: 'warn' } })
  t.teardown(() => app.close())
  await app.register(rateLimitPlugin, { onStoreError: 'closed', store: { custom: { consume: answer } as RateLimitStore } })
  app.get('/', async () => 'ok')
  const res = await app.inject('/')
  return { status: res.statusCode, headers: limitHeaders(res), logged: lines.filter((l) => l.msg === 'fastify-rampart: the rate-limit store failed').length }
}

t.test('a store answer that is not a decision goes down the onStoreError path: never a 500, a crash or NaN headers', async (t) => {
  const onUnhandled = (err: unknown) => t.fail(`unhandled rejection: ${String(err)}`)
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => { process.off('unhandledRejection', onUnhandled) })
  const answers: [string, () => unknown][] = [
    ['async null', async () => null],
    ['sync null', () => null],
    ['undefined', () => undefined],
    ['42', () => 42],
    ['{}', () => ({})],
    ['NaN remaining', () => ({ ...good, remaining: Number.NaN })],
    ['negative reset', () => ({ ...good, resetMs: -1 })],
    ['string retryAfterMs', () => ({ ...good, allowed: false, retryAfterMs: '5' })],
    ['thenable of junk', () => ({ then: (resolve: (v: unknown) => void) => resolve('junk') })],
  ]
  for (const [name, answer] of answers) {
    t.same(await answerOf(t, answer), { status: 503, headers: { 'retry-after': '1' }, logged: 1 }, name)
  }
})

t.test('a decision inside a non-native thenable is accepted', async (t) => {
  const res = await answerOf(t, () => ({ then: (resolve: (v: unknown) => void) => resolve(good) }))
  t.same(res, {
    status: 200,
    headers: {
      'ratelimit-policy': '"default";q=100;w=60',
      ratelimit: '"default";r=4;t=2',
      'x-ratelimit-limit': '100',
      'x-ratelimit-remaining': '4',
      'x-ratelimit-reset': '2',
    },
    logged: 0,
  })
  const refusal = await answerOf(t, () => ({ allowed: false, remaining: 0, resetMs: 3000, retryAfterMs: Number.POSITIVE_INFINITY }))
  t.equal(refusal.status, 429)
  t.equal(refusal.headers['retry-after'], '60', 'Infinity becomes the window, never "Infinity"')
})

t.test('validDecision cleans what it accepts', async (t) => {
  t.same(validDecision({ allowed: true, remaining: 2.7, resetMs: 10 }), { allowed: true, debtMs: 0, remaining: 2, resetMs: 10, retryAfterMs: 0 })
  t.same(validDecision({ allowed: false, remaining: 0, resetMs: 10, retryAfterMs: 10, debtMs: 5 }), { allowed: false, debtMs: 5, remaining: 0, resetMs: 10, retryAfterMs: 10 })
  t.equal(validDecision({ allowed: false, remaining: 0, resetMs: 10, retryAfterMs: Number.NaN }), undefined)
})
