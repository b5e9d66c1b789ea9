import Fastify from 'fastify'
import t from 'tap'
import { securityPlugin } from '../../index.js'
import { caught, makeApp } from '../helpers.js'

t.test('securityPlugin lists the problems of every plugin in one error', async (t) => {
  const err = await caught(() =>
    Fastify()
      .register(securityPlugin, {
        headers: { header: 1, hsts: { maxAge: '1y' } },
        trustedHost: { allowedHosts: ['*.com', 'ok.example'] },
        cors: { origins: [/^https:\/\/.*\.example\.com$/, 'not an origin'] },
        rateLimit: { window: 0, tiers: { pro: { limit: 0, window: '1m' } }, allowList: ['10.0.0.0/33'] },
      } as never)
      .ready()
  )
  t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
  const problems = err.problems as string[]
  const has = (pattern: RegExp) => t.ok(problems.some((p) => pattern.test(p)), String(pattern))
  has(/^headers\.header: is not a known option/)
  has(/^headers\.hsts\.maxAge: /)
  has(/^trustedHost\.allowedHosts\[0\]: /)
  has(/^cors\.origins\[0\]: a regular expression is not accepted .* use originMatcher/)
  has(/^cors\.origins\[1\]: /)
  has(/^rateLimit\.window: must be a positive number of milliseconds or a duration like '30s', '15m', '1h', '1d', at most 365 days \(got number\)$/)
  has(/^rateLimit\.tiers\.pro\.limit: /)
  t.notOk(problems.some((p) => /^rateLimit\.allowList/.test(p)), 'the allowList is checked once the schema passes')
})

t.test('semantic problems of different plugins are listed together', async (t) => {
  const err = await caught(() =>
    Fastify()
      .register(securityPlugin, {
        cors: { origins: [/x/] },
        rateLimit: { allowList: ['10.0.0.0/33'], tiers: { pro: { limit: 1, window: '1m', strict: true, burst: 2 } } },
        trustedHost: { allowedHosts: ['h.example'], useForwardedHost: true },
      } as never)
      .ready()
  )
  t.same(err.problems, [
    'trustedHost.useForwardedHost: needs Fastify\'s trustProxy set to your proxies (e.g. trustProxy: [\'10.0.0.0/8\']); otherwise any client could choose its X-Forwarded-Host',
    'cors.origins[0]: a regular expression is not accepted (unanchored ones match lookalike origins); list exact origins or "https://*.example.com" patterns, and use originMatcher (a function) for anything else',
    'rateLimit.tiers.pro.burst: has no meaning with strict (at most limit requests pass in any window); remove it',
    ...(err.problems as string[]).filter((p) => p.startsWith('rateLimit.allowList')),
  ])
  t.equal((err.problems as string[]).filter((p) => p.startsWith('rateLimit.allowList')).length, 1)
})

t.test('unknown top-level keys get "did you mean" and the known keys', async (t) => {
  const err = await caught(() => Fastify().register(securityPlugin, { rateLimt: {}, cros: {}, zzz: 1 } as never).ready())
  t.same(err.problems, [
    'rateLimt: is not a known option (did you mean "rateLimit"?) (expected headers, trustedHost, cors, rateLimit, jwt, webhook, mtls)',
    'cros: is not a known option (did you mean "cors"?) (expected headers, trustedHost, cors, rateLimit, jwt, webhook, mtls)',
    'zzz: is not a known option (expected headers, trustedHost, cors, rateLimit, jwt, webhook, mtls)',
  ])
  const notObject = await caught(() => Fastify().register(securityPlugin, 'x' as never).ready())
  t.same(notObject.problems, ['securityPlugin options: must be an object (got string)'])
})

t.test('a route config is checked under every key at once', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, {
    trustedHost: { allowedHosts: ['api.example.com'] },
    cors: { origins: ['https://app.example.com'] },
    rateLimit: { limit: 10 },
  })
  const err = await caught(() =>
    app.get(
      '/x',
      {
        config: {
          security: {
            trustedHost: { allowedHosts: ['*.com'] },
            cors: { origins: ['nope'] },
            rateLimit: { window: 0 },
            headers: { hsts: { maxAge: '1y' } },
          } as never,
        },
      },
      async () => 'ok'
    )
  )
  t.equal(err.code, 'FST_RAMPART_INVALID_ROUTE_CONFIG')
  const problems = err.problems as string[]
  t.equal(problems.length, 4, problems.join('\n'))
  t.match(problems, [/^config\.security\.trustedHost\.allowedHosts\[0\]: /, /^config\.security\.cors\.origins\[0\]: /, /^config\.security\.rateLimit\.window: must be a positive/, /^config\.security\.headers\.hsts\.maxAge: /])
  const shapes = await caught(() =>
    app.get('/y', { config: { security: { trustedHost: 1, cors: 'x', headers: 2, rateLimit: { group: 'a', limit: 2, window: '1m' } } as never } }, async () => 'ok')
  )
  t.same(shapes.problems, [
    'config.security.trustedHost: must be false or an object (got number)',
    'config.security.cors: must be false or an object (got string)',
    'config.security.headers: must be false or an object (got number)',
  ])
  const container = await caught(() => app.get('/z', { config: { security: { header: {} } as never } }, async () => 'ok'))
  t.match(container.problems, [/^config\.security\.header: is not a known option/])
  app.get('/fine', { config: { security: { trustedHost: false, cors: { origins: ['https://b.example'] }, headers: { cacheControl: 'public, max-age=60' }, rateLimit: { cost: 2 } } } }, async () => 'ok')
  const ok = await app.inject({ url: '/fine', headers: { host: 'anything.example' } })
  t.equal(ok.statusCode, 200)
  t.equal(ok.headers['x-ratelimit-remaining'], '8')
})
