import t from 'tap'
import { rateLimitPlugin } from '../../index.js'
import { makeApp } from '../helpers.js'
import { fakeClock } from './helpers.js'

t.test('fastify.rateLimit.consume counts only failed logins; reward gives units back', async (t) => {
  const clock = fakeClock()
  const app = makeApp(t)
  await app.register(rateLimitPlugin, {
    global: false,
    now: clock.now,
    buckets: { 'failed-login': { limit: 3, window: '15m', strict: true }, otp: { limit: 2, window: '1m' } },
  })
  app.post<{ Body: { password: string } }>('/login', async (request, reply) => {
    if (request.body.password === 'right') return { ok: true }
    const result = await app.rateLimit.consume(request, { bucket: 'failed-login' })
    if (!result.allowed) return reply.code(429).header('retry-after', String(result.retryAfter)).send({ retryAfter: result.retryAfter })
    return reply.code(401).send({ remaining: result.remaining })
  })
  const login = (password: string) => app.inject({ method: 'POST', url: '/login', payload: { password } })
  t.same((await login('right')).statusCode, 200, 'successes cost nothing')
  t.same([(await login('wrong')).json(), (await login('wrong')).json(), (await login('wrong')).json()], [{ remaining: 2 }, { remaining: 1 }, { remaining: 0 }])
  const limited = await login('wrong')
  t.equal(limited.statusCode, 429)
  t.same(limited.json(), { retryAfter: 900 })
  t.equal((await login('right')).statusCode, 200)

  const request = { ip: '10.9.9.9' } as never
  t.match(await app.rateLimit.consume(request, { bucket: 'otp', cost: 2 }), { allowed: true, remaining: 0, bucket: 'otp', limit: 2 })
  t.match(await app.rateLimit.consume(request, { bucket: 'otp' }), { allowed: false, retryAfter: 30, reset: 30 })
  t.match(await app.rateLimit.reward(request, { bucket: 'otp' }), { allowed: true, remaining: 1 })
  t.match(await app.rateLimit.consume(request, { bucket: 'otp' }), { allowed: true, remaining: 0 }, 'the reward made room for one')
  t.match(await app.rateLimit.reward(request, { bucket: 'otp', cost: 5 }), { allowed: true, remaining: 2 }, 'never more than a full bucket')
  t.match(await app.rateLimit.reward(request, { bucket: 'failed-login', key: 'other', cost: 1 }), { allowed: true, remaining: 3 })
  t.match(await app.rateLimit.consume(request), { bucket: 'default', limit: 100, remaining: 99 })
  await t.rejects(app.rateLimit.consume(request, { bucket: 'nope' }), /no rate-limit bucket named "nope" \(known: default, failed-login, otp\)/)
})

t.test('strict log rewards take back the newest units', async (t) => {
  const clock = fakeClock()
  const app = makeApp(t)
  await app.register(rateLimitPlugin, { global: false, now: clock.now, buckets: { s: { limit: 2, window: '1m', strict: true } } })
  const request = { ip: '10.0.0.1' } as never
  await app.rateLimit.consume(request, { bucket: 's', cost: 2 })
  t.match(await app.rateLimit.reward(request, { bucket: 's' }), { allowed: true, remaining: 1 })
  t.match(await app.rateLimit.reward(request, { bucket: 's' }), { allowed: true, remaining: 2, reset: 0 })
})

t.test('route groups can be consumed by name; the API belongs to the first limiter', async (t) => {
  const clock = fakeClock()
  const app = makeApp(t)
  await app.register(rateLimitPlugin, { now: clock.now })
  app.post('/a', { config: { security: { rateLimit: { group: 'auth', limit: 2, window: '1m' } } } }, async () => 'ok')
  app.post('/b', { config: { security: { rateLimit: { group: 'auth', limit: 2, window: '1m' } } } }, async () => 'ok')
  await app.register(async (child) => {
    await child.register(rateLimitPlugin, { name: 'child' })
    t.equal(child.rateLimit, app.rateLimit)
  })
  await app.rateLimit.consume({ ip: '127.0.0.1' } as never, { bucket: 'auth', cost: 2 })
  t.equal((await app.inject({ method: 'POST', url: '/b' })).statusCode, 429, 'the manual check used the group bucket')
})
