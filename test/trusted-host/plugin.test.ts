import Fastify from 'fastify'
import fp from 'fastify-plugin'
import t, { type Test } from 'tap'
import { securityPlugin, type TrustedHostOptions, trustedHostPlugin } from '../../index.js'
import { API_DEFAULTS, caught, headersOf, makeApp, captureLogs } from '../helpers.js'

const REFUSED = {
  statusCode: 400,
  code: 'FST_RAMPART_UNTRUSTED_HOST',
  error: 'Bad Request',
  message: 'Invalid host header',
}

async function serve (t: Test, trustedHost: TrustedHostOptions, fastifyOptions = {}) {
  const app = makeApp(t, fastifyOptions)
  await app.register(securityPlugin, { rateLimit: false, trustedHost })
  const seen: string[] = []
  app.addHook('onRequest', async (request) => {
    seen.push(`hook ${request.url}`)
  })
  app.get('/', async () => {
    seen.push('handler')
    return { ok: true }
  })
  return { app, seen }
}

t.test('allowed hosts pass: case, trailing dot, ports, IPv4, IPv6, wildcard depth', async (t) => {
  const { app } = await serve(t, {
    allowedHosts: ['example.com', '*.example.com', 'localhost:3000', '127.0.0.1', '[::1]', 'bücher.de'],
  })
  for (const host of [
    'example.com',
    'EXAMPLE.com',
    'example.com.',
    'example.com:8080',
    'api.example.com',
    'a.b.c.example.com',
    'localhost:3000',
    '127.0.0.1',
    '127.0.0.1:80',
    '[::1]',
    '[0:0:0:0:0:0:0:1]:8080',
    'xn--bcher-kva.de',
  ]) {
    const res = await app.inject({ url: '/', headers: { host } })
    t.equal(res.statusCode, 200, host)
  }
})

t.test('refused hosts get 400 with the error body and the security headers, before any hook or handler', async (t) => {
  const { app, seen } = await serve(t, { allowedHosts: ['example.com', '*.example.com', 'localhost:3000'] })
  for (const host of [
    'evil.com',
    'example.com.evil.com',
    'evilexample.com',
    'localhost:3001',
    'localhost',
    'good.com@evil.com',
    'example.com:80@evil.com',
    'example.com:abc',
    'example.com:99999',
    'exa mple.com',
    'example.com..',
    '',
  ]) {
    const res = await app.inject({ url: '/', headers: { host } })
    t.equal(res.statusCode, 400, JSON.stringify(host))
    t.same(res.json(), REFUSED)
    t.same(headersOf(res), API_DEFAULTS)
  }
  t.same(seen, [], 'neither the later hook nor the handler ran')
})

t.test('the apex is not covered by its wildcard unless listed', async (t) => {
  const { app } = await serve(t, { allowedHosts: ['*.example.com'] })
  t.equal((await app.inject({ url: '/', headers: { host: 'example.com' } })).statusCode, 400)
  t.equal((await app.inject({ url: '/', headers: { host: 'www.example.com' } })).statusCode, 200)
})

t.test('a port in the entry is compared with the default port when the Host has none', async (t) => {
  const { app } = await serve(t, { allowedHosts: ['example.com:443'] }, { trustProxy: ['127.0.0.1'] })
  t.equal((await app.inject({ url: '/', headers: { host: 'example.com' } })).statusCode, 400, 'http default is 80')
  const https = await app.inject({ url: '/', headers: { host: 'example.com', 'x-forwarded-proto': 'https' } })
  t.equal(https.statusCode, 200)
  t.equal((await app.inject({ url: '/', headers: { host: 'example.com:443' } })).statusCode, 200)
})

t.test('404s are checked too', async (t) => {
  const { app } = await serve(t, { allowedHosts: ['example.com'] })
  t.equal((await app.inject({ url: '/nope', headers: { host: 'evil.com' } })).statusCode, 400)
  t.equal((await app.inject({ url: '/nope', headers: { host: 'example.com' } })).statusCode, 404)
})

t.test('* allows any well-formed host and still refuses malformed ones', async (t) => {
  const { app } = await serve(t, { allowedHosts: ['*'] })
  t.equal((await app.inject({ url: '/', headers: { host: 'anything.example' } })).statusCode, 200)
  t.equal((await app.inject({ url: '/', headers: { host: 'a@b' } })).statusCode, 400)
  t.equal((await app.inject({ url: '/', headers: { host: 'a b' } })).statusCode, 400)
})

t.test('an app error handler cannot change the refusal', async (t) => {
  const app = makeApp(t)
  app.setErrorHandler(async () => {
    throw new Error('handler broke')
  })
  await app.register(trustedHostPlugin, { allowedHosts: ['example.com'] })
  app.get('/', async () => 'ok')
  const res = await app.inject({ url: '/', headers: { host: 'evil.com' } })
  t.equal(res.statusCode, 400)
  t.same(res.json(), REFUSED)
})

t.test('a refusal registered after another plugin still blocks the handler', async (t) => {
  const app = makeApp(t)
  await app.register(trustedHostPlugin, { allowedHosts: ['example.com'] })
  const auth = fp(async (scope) => {
    scope.addHook('preHandler', async () => {
      throw new Error('auth should not run')
    })
  })
  await app.register(auth)
  app.get('/', async () => 'ok')
  t.equal((await app.inject({ url: '/', headers: { host: 'evil.com' } })).statusCode, 400)
})

t.test('X-Forwarded-Host is ignored unless enabled and the peer is trusted', async (t) => {
  const ignored = await serve(t, { allowedHosts: ['example.com'] }, { trustProxy: ['127.0.0.1'] })
  const res = await ignored.app.inject({ url: '/', headers: { host: 'example.com', 'x-forwarded-host': 'evil.com' } })
  t.equal(res.statusCode, 200, 'useForwardedHost off: the Host header counts')

  const used = await serve(t, { allowedHosts: ['public.example.com'], useForwardedHost: true }, { trustProxy: ['127.0.0.1'] })
  const viaProxy = await used.app.inject({
    url: '/',
    headers: { host: 'internal:8080', 'x-forwarded-host': 'evil.com, public.example.com' },
  })
  t.equal(viaProxy.statusCode, 200, 'the value added by the nearest trusted proxy (the last) counts')
  const spoofedFirst = await used.app.inject({
    url: '/',
    headers: { host: 'internal:8080', 'x-forwarded-host': 'public.example.com, evil.com' },
  })
  t.equal(spoofedFirst.statusCode, 400)

  const untrustedPeer = await serve(
    t,
    { allowedHosts: ['public.example.com'], useForwardedHost: true },
    { trustProxy: ['10.0.0.0/8'] }
  )
  const spoofed = await untrustedPeer.app.inject({
    url: '/',
    headers: { host: 'evil.com', 'x-forwarded-host': 'public.example.com' },
  })
  t.equal(spoofed.statusCode, 400, 'a peer outside trustProxy cannot choose the host')
})

t.test('useForwardedHost without trustProxy is refused at register', async (t) => {
  const err = await caught(() =>
    Fastify().register(trustedHostPlugin, { allowedHosts: ['example.com'], useForwardedHost: true }).ready()
  )
  t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
  t.same(err.problems, [
    "trustedHost.useForwardedHost: needs Fastify's trustProxy set to your proxies (e.g. trustProxy: ['10.0.0.0/8']); otherwise any client could choose its X-Forwarded-Host",
  ])
})

t.test('bad options are listed', async (t) => {
  const err = await caught(() =>
    Fastify()
      .register(securityPlugin, {
        rateLimit: false,
        trustedHost: { allowedHosts: ['*.com', 'ex*ample.com', 'https://a.example', ''], redirect: { exemptPaths: ['health'] } },
      })
      .ready()
  )
  t.same(err.problems, [
    'trustedHost.redirect.exemptPaths[0]: must be a path starting with "/" (got string)',
  ])
  const entries = await caught(() =>
    Fastify().register(trustedHostPlugin, { allowedHosts: ['*.com', 'ex*ample.com', 'https://a.example', ''] }).ready()
  )
  t.same(entries.problems, [
    'trustedHost.allowedHosts[0]: a wildcard directly over a public suffix would trust every site under it',
    'trustedHost.allowedHosts[1]: a wildcard must be a whole leading label ("*.example.com")',
    'trustedHost.allowedHosts[2]: must be a host, without a scheme or a path',
    'trustedHost.allowedHosts[3]: must not be empty',
  ])
  const empty = await caught(() => Fastify().register(trustedHostPlugin, { allowedHosts: [] }).ready())
  t.same(empty.problems, ['trustedHost.allowedHosts: must not have fewer than 1 items'])
  const missing = await caught(() => Fastify().register(trustedHostPlugin, {} as TrustedHostOptions).ready())
  t.same(missing.problems, ['trustedHost.allowedHosts: is required'])
})

t.test('per route: false exempts, an object replaces the allowlist', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false, trustedHost: { allowedHosts: ['example.com'] } })
  app.get('/health', { config: { security: { trustedHost: false } } }, async () => ({ ok: 1 }))
  app.get('/admin', { config: { security: { trustedHost: { allowedHosts: ['admin.example.com'] } } } }, async () => 'a')
  app.get('/', async () => 'home')
  t.equal((await app.inject({ url: '/health', headers: { host: '10.0.0.12' } })).statusCode, 200, 'LB health check by IP')
  t.equal((await app.inject({ url: '/admin', headers: { host: 'admin.example.com' } })).statusCode, 200)
  t.equal((await app.inject({ url: '/admin', headers: { host: 'example.com' } })).statusCode, 400)
  t.equal((await app.inject({ url: '/', headers: { host: 'admin.example.com' } })).statusCode, 400)
  t.equal((await app.inject({ url: '/', headers: { host: 'example.com' } })).statusCode, 200)
})

t.test('bad route config throws at route add', async (t) => {
  const app = makeApp(t)
  await app.register(trustedHostPlugin, { allowedHosts: ['example.com'] })
  const err = await caught(() =>
    app.get('/a', { config: { security: { trustedHost: { allowedHosts: ['*.co.uk'] } } } }, async () => 1)
  )
  t.equal(err.code, 'FST_RAMPART_INVALID_ROUTE_CONFIG')
  t.same(err.problems, [
    'config.security.trustedHost.allowedHosts[0]: a wildcard directly over a public suffix would trust every site under it',
  ])
  const shape = await caught(() =>
    app.get('/b', { config: { security: { trustedHost: { hosts: [] } as never } } }, async () => 1)
  )
  t.same(shape.problems, [
    'config.security.trustedHost.allowedHosts: is required',
    'config.security.trustedHost.hosts: is not a known option',
  ])
  const truthy = await caught(() => app.get('/c', { config: { security: { trustedHost: true as never } } }, async () => 1))
  t.same(truthy.problems, ['config.security.trustedHost: must be false or an object (got boolean)'])
})

t.test('redirect.https sends 308 to https except on exempt paths; the host must be trusted first', async (t) => {
  const app = makeApp(t, { trustProxy: ['127.0.0.1'] })
  await app.register(securityPlugin, {
    rateLimit: false,
    trustedHost: { allowedHosts: ['example.com', 'localhost:8080'], redirect: { https: true, exemptPaths: ['/health'] } },
  })
  app.get('/*', async () => 'ok')
  const res = await app.inject({ url: '/a/b?x=1', headers: { host: 'example.com' } })
  t.equal(res.statusCode, 308)
  t.equal(res.headers.location, 'https://example.com/a/b?x=1')
  t.equal(res.headers['x-frame-options'], 'DENY', 'security headers on the redirect')
  const port = await app.inject({ url: '/', headers: { host: 'localhost:8080' } })
  t.equal(port.headers.location, 'https://localhost/', 'the http port is dropped')
  t.equal((await app.inject({ url: '/health?full=1', headers: { host: 'example.com' } })).statusCode, 200)
  const secure = await app.inject({ url: '/', headers: { host: 'example.com', 'x-forwarded-proto': 'https' } })
  t.equal(secure.statusCode, 200)
  t.equal((await app.inject({ url: '/', headers: { host: 'evil.com' } })).statusCode, 400, 'no open redirect')
})

t.test('redirect.www sends the apex to www. when www. is listed exactly', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, {
    rateLimit: false,
    trustedHost: {
      allowedHosts: ['example.com', 'www.example.com', 'api.example.com', 'shop.test:8080', 'www.shop.test:8080', '127.0.0.1'],
      redirect: { www: true },
    },
  })
  app.get('/*', async () => 'ok')
  const apex = await app.inject({ url: '/p?q=1', headers: { host: 'example.com' } })
  t.equal(apex.statusCode, 308)
  t.equal(apex.headers.location, 'http://www.example.com/p?q=1')
  const port = await app.inject({ url: '/', headers: { host: 'shop.test:8080' } })
  t.equal(port.headers.location, 'http://www.shop.test:8080/')
  t.equal((await app.inject({ url: '/', headers: { host: 'www.example.com' } })).statusCode, 200)
  t.equal((await app.inject({ url: '/', headers: { host: 'api.example.com' } })).statusCode, 200, 'www.api is not listed')
  t.equal((await app.inject({ url: '/', headers: { host: '127.0.0.1' } })).statusCode, 200, 'never for IPs')
})

t.test('redirect.www also moves an apex that is not listed itself (Starlette\'s www_redirect)', async (t) => {
  const app = makeApp(t)
  await app.register(trustedHostPlugin, { allowedHosts: ['www.example.com'], redirect: { www: true } })
  app.get('/', async () => 'ok')
  const res = await app.inject({ url: '/?a=1', headers: { host: 'example.com' } })
  t.equal(res.statusCode, 308)
  t.equal(res.headers.location, 'http://www.example.com/?a=1')
  t.equal((await app.inject({ url: '/', headers: { host: 'other.example' } })).statusCode, 400)
  const off = makeApp(t)
  await off.register(trustedHostPlugin, { allowedHosts: ['www.example.com'] })
  off.get('/', async () => 'ok')
  t.equal((await off.inject({ url: '/', headers: { host: 'example.com' } })).statusCode, 400, 'without redirect.www: refused')
})

t.test('www and https redirects combine into one hop', async (t) => {
  const app = makeApp(t)
  await app.register(trustedHostPlugin, {
    allowedHosts: ['example.com', 'www.example.com'],
    redirect: { www: true, https: true },
  })
  app.get('/', async () => 'ok')
  const res = await app.inject({ url: '/', headers: { host: 'example.com' } })
  t.equal(res.headers.location, 'https://www.example.com/')
})

t.test('refusals are logged at warn, rate-limited, without raw header text', async (t) => {
  const { stream, lines } = captureLogs()
  const app = Fastify({ logger: { level: 'warn', stream } })
  t.teardown(() => app.close())
  await app.register(trustedHostPlugin, { allowedHosts: ['example.com'] })
  app.get('/', async () => 'ok')
  await app.inject({ url: '/', headers: { host: 'evil.com' } })
  await app.inject({ url: '/', headers: { host: 'evil.com\u2028injected' } })
  await app.inject({ url: '/', headers: { host: 'other.evil' } })
  const warns = lines.filter((l) => l.level === 40)
  t.equal(warns.length, 1, 'one line per interval')
  t.match(warns[0], { code: 'FST_RAMPART_UNTRUSTED_HOST', reason: 'not allowed', host: 'evil.com', suppressed: 0 })
  t.notMatch(JSON.stringify(lines), /injected/)
})
