import t from 'tap'
import { corsPlugin } from '../../index.js'
import { OriginLookup, type OriginLookupOptions } from '../../plugins/cors/origin-lookup.js'
import { originAllowed, resolvePolicy } from '../../plugins/cors/policy.js'
import { captureLogs, caught, makeApp } from '../helpers.js'

const APP = 'https://app.example.com'
const TENANT = 'https://acme.tenants.example'

function fakeTimers () {
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = []
  return {
    timers,
    setTimer (fn: () => void, ms: number) {
      const timer = { fn, ms, cancelled: false }
      timers.push(timer)
      return () => { timer.cancelled = true }
    },
    fire () {
      for (const timer of timers.splice(0)) if (!timer.cancelled) timer.fn()
    },
  }
}

function lookupWith (matcher: (origin: string) => unknown, options: Partial<OriginLookupOptions> = {}) {
  const failures: string[] = []
  let now = 0
  const timers = fakeTimers()
  const lookup = new OriginLookup(matcher as (origin: string) => boolean, {
    timeoutMs: 1000,
    maxKeys: 100,
    ttlMs: 60_000,
    negativeTtlMs: 10_000,
    onFailure: (reason) => failures.push(reason),
    now: () => now,
    setTimer: timers.setTimer,
    ...options,
  })
  const decide = (origin: string) => new Promise<boolean>((resolve) => lookup.run(() => lookup.check(origin), resolve))
  return { lookup, decide, failures, timers, advance: (ms: number) => { now += ms } }
}

t.test('an async matcher is asked once per origin, then answered from the cache until its TTL', async (t) => {
  const asked: string[] = []
  const { decide, advance } = lookupWith(async (origin) => {
    asked.push(origin)
    return origin === TENANT
  })
  t.equal(await decide(TENANT), true)
  t.equal(await decide('https://other.example'), false)
  t.equal(await decide(TENANT), true)
  t.equal(await decide('https://other.example'), false)
  t.same(asked, [TENANT, 'https://other.example'])
  advance(10_000)
  t.equal(await decide('https://other.example'), false)
  t.same(asked.length, 3, 'a refusal is kept negativeTtl')
  advance(50_000)
  t.equal(await decide(TENANT), true)
  t.same(asked.length, 4, 'an allowed answer is kept ttl')
})

t.test('concurrent requests from one new origin share one lookup', async (t) => {
  let calls = 0
  let release: (value: boolean) => void = () => {}
  const { decide } = lookupWith(() => {
    calls++
    return new Promise<boolean>((resolve) => { release = resolve })
  })
  const answers = Promise.all([decide(TENANT), decide(TENANT), decide(TENANT)])
  release(true)
  t.same(await answers, [true, true, true])
  t.equal(calls, 1)
})

t.test('a lookup that times out, rejects or throws refuses the origin, and so does a non-true answer', async (t) => {
  const never = lookupWith(() => new Promise(() => {}))
  const pending = never.decide(TENANT)
  t.equal(never.timers.timers[0].ms, 1000)
  never.timers.fire()
  t.equal(await pending, false)
  t.same(never.failures, ['timeout'])

  let late: (value: boolean) => void = () => {}
  const slow = lookupWith(() => new Promise<boolean>((resolve) => { late = resolve }))
  const slowAnswer = slow.decide(TENANT)
  slow.timers.fire()
  late(true)
  t.equal(await slowAnswer, false, 'an answer after the timeout changes nothing')
  t.equal(await slow.decide(TENANT), false, 'the timeout is what was cached')

  const rejects = lookupWith(async () => { throw new Error('db down') })
  t.equal(await rejects.decide(TENANT), false)
  t.same(rejects.failures, ['rejected'])
  t.equal(rejects.timers.timers[0].cancelled, true, 'the timer is cleared')

  const throws = lookupWith(() => { throw new Error('bad') })
  t.equal(await throws.decide(TENANT), false)
  t.same(throws.failures, ['threw'])

  const odd = lookupWith(() => ({ then: (resolve: (v: unknown) => void) => resolve('yes') }))
  t.equal(await odd.decide(TENANT), false, 'a non-native thenable is awaited; only true allows')

  const sync = lookupWith((origin) => origin === TENANT)
  t.equal(await sync.decide(TENANT), true, 'a synchronous matcher is called directly')
  t.equal(await sync.decide('https://x.example'), false)
})

t.test('a flood of new origins cannot start more than maxKeys lookups at once', async (t) => {
  const { decide, failures } = lookupWith(() => new Promise(() => {}), { maxKeys: 2 })
  decide('https://a.example').catch(() => {})
  decide('https://b.example').catch(() => {})
  t.equal(await decide('https://c.example'), false)
  t.same(failures, ['busy'])
})

t.test('with the plugin, an async originMatcher governs actual requests and preflights', async (t) => {
  const asked: string[] = []
  const app = makeApp(t)
  await app.register(corsPlugin, {
    origins: [APP],
    methods: ['GET', 'PUT'],
    originMatcher: async (origin) => {
      asked.push(origin)
      return origin.endsWith('.tenants.example')
    },
  })
  app.get('/items', async () => 'x')
  app.put('/items', async () => 'x')
  const actual = await app.inject({ url: '/items', headers: { origin: TENANT } })
  t.equal(actual.headers['access-control-allow-origin'], TENANT)
  const preflight = await app.inject({ method: 'OPTIONS', url: '/items', headers: { origin: TENANT, 'access-control-request-method': 'PUT' } })
  t.equal(preflight.statusCode, 204)
  t.equal(preflight.headers['access-control-allow-origin'], TENANT)
  const refused = await app.inject({ method: 'OPTIONS', url: '/items', headers: { origin: 'https://evil.example', 'access-control-request-method': 'PUT' } })
  t.equal(refused.statusCode, 403)
  t.equal((await app.inject({ url: '/items', headers: { origin: 'https://evil.example' } })).headers['access-control-allow-origin'], undefined)
  t.equal((await app.inject({ url: '/items', headers: { origin: APP } })).headers['access-control-allow-origin'], APP, 'listed: never asked')
  t.same(asked, [TENANT, 'https://evil.example'], 'one lookup per origin')
})

t.test('a timed-out lookup is refused with no 500 and logged once, without the error', async (t) => {
  const { stream, lines } = captureLogs()
  const app = makeApp(t, { logger: { stream, level: 'info' } })
  await app.register(corsPlugin, {
    origins: [APP],
    originMatcherTimeout: 1,
    originMatcherCache: { maxKeys: 10, ttl: 1000, negativeTtl: 1000 },
    originMatcher: () => new Promise<boolean>(() => {}),
  })
  app.get('/items', async () => 'x')
  const res = await app.inject({ url: '/items', headers: { origin: TENANT } })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['access-control-allow-origin'], undefined)
  const pre = await app.inject({ method: 'OPTIONS', url: '/items', headers: { origin: 'https://slow.example', 'access-control-request-method': 'GET' } })
  t.equal(pre.statusCode, 403)
  const failures = lines.filter((l) => l.msg === 'fastify-rampart: cors.originMatcher failed; the origin was refused')
  t.same(failures.map(({ level, reason, suppressed }) => ({ level, reason, suppressed })), [{ level: 40, reason: 'timeout', suppressed: 0 }])
})

t.test('originMatcher timeout and cache options are checked', async (t) => {
  const err = await caught(() =>
    makeApp(t).register(corsPlugin, { origins: [APP], originMatcherTimeout: 0, originMatcherCache: { maxKeys: 0, ttl: '1m', extra: 1 } } as never).ready()
  )
  t.same(err.problems, [
    'cors.originMatcherTimeout: must be >= 1 (got number)',
    'cors.originMatcherCache.maxKeys: must be >= 1 (got number)',
    'cors.originMatcherCache.ttl: must be integer (got string)',
    'cors.originMatcherCache.extra: is not a known option',
  ])
})

t.test('the policy itself refuses an origin whose synchronous matcher throws', async (t) => {
  const policy = resolvePolicy({
    origins: [],
    credentials: false,
    methods: ['GET'],
    allowedHeaders: [],
    exposedHeaders: [],
    maxAge: 600,
    allowNullOrigin: false,
    allowPrivateNetwork: false,
    dangerouslyReflectAnyOrigin: false,
    dangerouslyAllowNullOriginWithCredentials: false,
    originMatcherTimeout: 1000,
    originMatcherCache: {},
    cacheControl: false,
    originMatcher: () => { throw new Error('bad') },
  }, 'cors', [])
  t.equal(originAllowed(policy, TENANT), false)
})
