import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { type CorsOptions, corsPlugin, securityPlugin } from '../../index.js'
import { caught, makeApp, captureLogs } from '../helpers.js'

const APP = 'https://app.example.com'

function corsHeaders (res: { headers: Record<string, unknown> }): Record<string, unknown> {
  return Object.fromEntries(Object.entries(res.headers).filter(([k]) => k.startsWith('access-control-') || k === 'vary'))
}

async function serve (t: Test, cors: CorsOptions) {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false, cors })
  const seen: string[] = []
  app.addHook('onRequest', async (request) => {
    seen.push(`auth ${request.method}`)
  })
  app.get('/items', async () => [1])
  app.put('/items', async () => 'put')
  app.get('/boom', async () => {
    throw Object.assign(new Error('nope'), { statusCode: 418 })
  })
  return { app, seen }
}

function preflight (origin: string, method: string, requestHeaders?: string, extra: Record<string, string> = {}) {
  const headers: Record<string, string> = { origin, 'access-control-request-method': method, ...extra }
  if (requestHeaders !== undefined) headers['access-control-request-headers'] = requestHeaders
  return { method: 'OPTIONS' as const, url: '/items', headers }
}

t.test('an allowed origin gets its exact origin back, never *', async (t) => {
  const { app } = await serve(t, { origins: [APP, 'https://*.example.org'] })
  t.same(corsHeaders(await app.inject({ url: '/items', headers: { origin: APP } })), {
    vary: 'Origin',
    'access-control-allow-origin': APP,
  })
  t.same(corsHeaders(await app.inject({ url: '/items', headers: { origin: 'https://x.y.example.org' } })), {
    vary: 'Origin',
    'access-control-allow-origin': 'https://x.y.example.org',
  })
})

t.test('refused and absent origins get Vary and no ACA* headers', async (t) => {
  const { app } = await serve(t, { origins: [APP] })
  for (const origin of ['https://app.example.com.evil.com', 'https://evilapp.example.com', 'http://app.example.com', 'https://app.example.com:444', 'https://app.example.com/', 'HTTPS://APP.EXAMPLE.COM', 'null']) {
    const res = await app.inject({ url: '/items', headers: { origin } })
    t.equal(res.statusCode, 200)
    t.same(corsHeaders(res), { vary: 'Origin' }, origin)
  }
  t.same(corsHeaders(await app.inject({ url: '/items' })), { vary: 'Origin' }, 'no Origin')
})

t.test('credentials and exposed headers', async (t) => {
  const { app } = await serve(t, { origins: [APP], credentials: true, exposedHeaders: ['X-Request-Id'] })
  t.same(corsHeaders(await app.inject({ url: '/items', headers: { origin: APP } })), {
    vary: 'Origin',
    'access-control-allow-origin': APP,
    'access-control-allow-credentials': 'true',
    'access-control-expose-headers': 'X-Request-Id',
  })
})

t.test('Vary merges with an existing value and is never duplicated', async (t) => {
  const app = makeApp(t)
  app.addHook('onRequest', async (_req, reply) => {
    reply.header('vary', 'Accept-Encoding, origin')
  })
  await app.register(corsPlugin, { origins: [APP] })
  app.get('/', async () => 'x')
  const other = makeApp(t)
  other.addHook('onRequest', async (_req, reply) => {
    reply.header('vary', 'Accept')
  })
  await other.register(corsPlugin, { origins: [APP] })
  other.get('/', async () => 'x')
  t.equal((await app.inject({ url: '/', headers: { origin: APP } })).headers.vary, 'Accept-Encoding, origin')
  t.equal((await other.inject({ url: '/', headers: { origin: APP } })).headers.vary, 'Accept, Origin')
})

t.test('an allowed preflight is answered 204 before auth hooks and the handler', async (t) => {
  const { app, seen } = await serve(t, {
    origins: [APP],
    credentials: true,
    methods: ['GET', 'PUT'],
    allowedHeaders: ['Content-Type', 'Authorization'],
    maxAge: 300,
  })
  const res = await app.inject(preflight(APP, 'PUT', 'authorization, Content-Type'))
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  t.same(corsHeaders(res), {
    vary: 'Origin',
    'access-control-allow-origin': APP,
    'access-control-allow-credentials': 'true',
    'access-control-allow-methods': 'GET, PUT',
    'access-control-allow-headers': 'content-type, authorization',
    'access-control-max-age': '300',
  })
  t.same(seen, [], 'auth hook never ran')
  const lower = await app.inject(preflight(APP, 'put'))
  t.equal(lower.statusCode, 403, 'methods are case-sensitive (issue 10): put is not PUT')
})

t.test('refused preflights get 403 with no ACA* headers', async (t) => {
  const { app, seen } = await serve(t, { origins: [APP], methods: ['GET', 'PUT'], allowedHeaders: ['content-type'] })
  const cases = [
    preflight('https://evil.com', 'GET'),
    preflight(APP, 'DELETE'),
    preflight(APP, 'PUT', 'content-type, x-evil'),
    preflight(APP, 'PUT', 'authorization'),
    preflight('null', 'GET'),
    preflight(APP, 'GET', undefined, { 'access-control-request-private-network': 'true' }),
  ]
  for (const request of cases) {
    const res = await app.inject(request)
    t.equal(res.statusCode, 403, JSON.stringify(request.headers))
    t.same(res.json(), {
      statusCode: 403,
      code: 'FST_RAMPART_CORS_PREFLIGHT_REFUSED',
      error: 'Forbidden',
      message: 'CORS preflight refused',
    })
    t.same(corsHeaders(res), { vary: 'Origin' }, 'Vary, and no ACA* header')
    t.equal(res.headers['x-frame-options'], 'DENY', 'security headers still apply')
  }
  t.same(seen, [])
})

t.test('an empty Access-Control-Request-Headers asks for nothing', async (t) => {
  const { app } = await serve(t, { origins: [APP] })
  t.equal((await app.inject(preflight(APP, 'GET', ' '))).statusCode, 204)
})

t.test('OPTIONS without Origin or Access-Control-Request-Method is not a preflight', async (t) => {
  const { app, seen } = await serve(t, { origins: [APP] })
  const noMethod = await app.inject({ method: 'OPTIONS', url: '/items', headers: { origin: APP } })
  t.equal(noMethod.statusCode, 404, 'routes normally: no OPTIONS route here')
  const noOrigin = await app.inject({ method: 'OPTIONS', url: '/items', headers: { 'access-control-request-method': 'GET' } })
  t.equal(noOrigin.statusCode, 404)
  t.same(corsHeaders(noOrigin), { vary: 'Origin' })
  t.same(seen, ['auth OPTIONS', 'auth OPTIONS'], 'went through the normal hooks')

  const own = makeApp(t)
  await own.register(corsPlugin, { origins: [APP] })
  own.options('/thing', async () => ({ handled: 'by the route' }))
  own.get('/thing', async () => 'the route a preflight asks about')
  const mark = async (_req: unknown, reply: { header: (k: string, v: string) => void }, payload: unknown) => {
    reply.header('x-own-onsend', '1')
    return payload
  }
  own.options('/one', { onSend: mark }, async () => 'one')
  own.options('/many', { onSend: [mark] }, async () => 'many')
  t.same((await own.inject({ method: 'OPTIONS', url: '/thing' })).json(), { handled: 'by the route' })
  t.equal((await own.inject({ method: 'OPTIONS', url: '/one' })).headers['x-own-onsend'], '1', 'the route keeps its own onSend')
  t.equal((await own.inject({ method: 'OPTIONS', url: '/many' })).headers['x-own-onsend'], '1')
  t.equal((await own.inject({ method: 'OPTIONS', url: '/thing', headers: { origin: APP, 'access-control-request-method': 'GET' } })).statusCode, 204)
  t.equal((await own.inject({ method: 'OPTIONS', url: '/thing', headers: { origin: 'https://evil.com', 'access-control-request-method': 'GET' } })).statusCode, 403)
})

t.test('Private Network Access preflights when allowed', async (t) => {
  const { app } = await serve(t, { origins: [APP], allowPrivateNetwork: true })
  const res = await app.inject(preflight(APP, 'GET', undefined, { 'access-control-request-private-network': 'true' }))
  t.equal(res.statusCode, 204)
  t.equal(res.headers['access-control-allow-private-network'], 'true')
  const plain = await app.inject(preflight(APP, 'GET'))
  t.equal(plain.headers['access-control-allow-private-network'], undefined)
})

t.test('null origin only with allowNullOrigin', async (t) => {
  const { app } = await serve(t, { origins: [APP], allowNullOrigin: true })
  t.equal((await app.inject({ url: '/items', headers: { origin: 'null' } })).headers['access-control-allow-origin'], 'null')
  t.equal((await app.inject(preflight('null', 'GET'))).statusCode, 204)
})

t.test('* without credentials answers *', async (t) => {
  const { app } = await serve(t, { origins: ['*'] })
  const res = await app.inject({ url: '/items', headers: { origin: 'https://anyone.example' } })
  t.same(corsHeaders(res), { vary: 'Origin', 'access-control-allow-origin': '*' })
})

t.test('dangerouslyReflectAnyOrigin reflects any origin, with credentials', async (t) => {
  const { app } = await serve(t, { origins: ['*'], credentials: true, dangerouslyReflectAnyOrigin: true })
  const res = await app.inject({ url: '/items', headers: { origin: 'https://anyone.example' } })
  t.same(corsHeaders(res), {
    vary: 'Origin',
    'access-control-allow-origin': 'https://anyone.example',
    'access-control-allow-credentials': 'true',
  })
  const nullCreds = await serve(t, {
    origins: [APP],
    credentials: true,
    allowNullOrigin: true,
    dangerouslyAllowNullOriginWithCredentials: true,
  })
  t.equal((await nullCreds.app.inject({ url: '/items', headers: { origin: 'null' } })).headers['access-control-allow-origin'], 'null')
})

t.test('originMatcher is the escape hatch for what a list cannot say', async (t) => {
  const { app } = await serve(t, { origins: [APP], originMatcher: (origin) => /^https:\/\/pr-\d+\.preview\.example\.net$/.test(origin) })
  t.equal((await app.inject({ url: '/items', headers: { origin: 'https://pr-42.preview.example.net' } })).headers['access-control-allow-origin'], 'https://pr-42.preview.example.net')
  t.equal((await app.inject({ url: '/items', headers: { origin: 'https://pr-42.preview.example.net.evil' } })).headers['access-control-allow-origin'], undefined)
  t.equal((await app.inject({ url: '/items', headers: { origin: APP } })).headers['access-control-allow-origin'], APP)
})

t.test('an originMatcher that throws refuses the origin instead of failing the request', async (t) => {
  const { app } = await serve(t, {
    origins: [APP],
    originMatcher: () => {
      throw new Error('bug in user code')
    },
  })
  const res = await app.inject({ url: '/items', headers: { origin: 'https://other.example' } })
  t.equal(res.statusCode, 200)
  t.same(corsHeaders(res), { vary: 'Origin' })
  t.equal((await app.inject(preflight('https://other.example', 'GET'))).statusCode, 403)
})

t.test('errors stay readable cross-origin', async (t) => {
  const { app } = await serve(t, { origins: [APP], credentials: true, exposedHeaders: ['retry-after'] })
  const res = await app.inject({ url: '/boom', headers: { origin: APP } })
  t.equal(res.statusCode, 418)
  t.same(corsHeaders(res), {
    vary: 'Origin',
    'access-control-allow-origin': APP,
    'access-control-allow-credentials': 'true',
    'access-control-expose-headers': 'retry-after',
  })
  const missing = await app.inject({ url: '/nope', headers: { origin: APP } })
  t.equal(missing.statusCode, 404)
  t.equal(missing.headers['access-control-allow-origin'], APP)
})

t.test('per route: false turns CORS off, preflight included', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false, cors: { origins: [APP] } })
  app.get('/internal', { config: { security: { cors: false } } }, async () => 'x')
  app.get('/public', async () => 'x')
  t.same(corsHeaders(await app.inject({ url: '/internal', headers: { origin: APP } })), {})
  const pre = await app.inject({ method: 'OPTIONS', url: '/internal', headers: { origin: APP, 'access-control-request-method': 'GET' } })
  t.equal(pre.statusCode, 403)
  t.same(corsHeaders(pre), { vary: 'Origin' })
  const other = await app.inject({ method: 'OPTIONS', url: '/public', headers: { origin: APP, 'access-control-request-method': 'GET' } })
  t.equal(other.statusCode, 204)
  t.equal((await app.inject({ url: '/public', headers: { origin: APP } })).headers['access-control-allow-origin'], APP)
})

t.test("per route: an object overrides, and governs that route's preflight", async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false, cors: { origins: [APP], methods: ['GET'] } })
  app.route({
    method: ['GET', 'DELETE'],
    url: '/partner/:id',
    config: { security: { cors: { origins: ['https://partner.example'], methods: ['GET', 'DELETE'], allowedHeaders: ['x-partner-key'], credentials: true } } },
    handler: async () => 'x',
  })
  app.get('/items', async () => 'x')
  const actual = await app.inject({ url: '/partner/7', headers: { origin: 'https://partner.example' } })
  t.same(corsHeaders(actual), { vary: 'Origin', 'access-control-allow-origin': 'https://partner.example', 'access-control-allow-credentials': 'true' })
  t.same(corsHeaders(await app.inject({ url: '/partner/7', headers: { origin: APP } })), { vary: 'Origin' }, 'the route replaced the list')

  const ok = await app.inject({
    method: 'OPTIONS',
    url: '/partner/7?x=1',
    headers: { origin: 'https://partner.example', 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'X-Partner-Key' },
  })
  t.equal(ok.statusCode, 204)
  t.equal(ok.headers['access-control-allow-methods'], 'GET, DELETE')
  t.equal(ok.headers['access-control-allow-headers'], 'x-partner-key')
  const wrongOrigin = await app.inject({ method: 'OPTIONS', url: '/partner/7', headers: { origin: APP, 'access-control-request-method': 'GET' } })
  t.equal(wrongOrigin.statusCode, 403)
  const pluginRoute = await app.inject({ method: 'OPTIONS', url: '/items', headers: { origin: APP, 'access-control-request-method': 'DELETE' } })
  t.equal(pluginRoute.statusCode, 403, 'the plugin default still governs other routes')
  const unknown = await app.inject({ method: 'OPTIONS', url: '/nowhere', headers: { origin: APP, 'access-control-request-method': 'GET' } })
  t.equal(unknown.statusCode, 403, 'no such route: refused (it was 204, from the plugin default)')
  t.equal(unknown.json().code, 'FST_RAMPART_CORS_PREFLIGHT_REFUSED')
})

t.test('every refused config is listed at register', async (t) => {
  const problems = async (cors: unknown) =>
    (await caught(() => Fastify().register(corsPlugin, cors as CorsOptions).ready())).problems
  t.same(await problems({ origins: ['*'], credentials: true }), [
    'cors.origins: "*" with credentials would let every site read your users\' data; list the origins, or set dangerouslyReflectAnyOrigin',
  ])
  t.same(await problems({ origins: [APP], credentials: true, allowNullOrigin: true }), [
    'cors.allowNullOrigin: "null" is sent by sandboxed iframes any site can create; with credentials set dangerouslyAllowNullOriginWithCredentials to mean it',
  ])
  t.same(await problems({ origins: [/example\.com$/] }), ['cors.origins[0]: must be string (got RegExp)'])
  t.same(await problems({ origins: ['null', 'https://a.example/'] }), [
    'cors.origins[0]: "null" is set with allowNullOrigin, not listed (sandboxed frames and file: pages all send it)',
    'cors.origins[1]: must be scheme://host[:port] with no path, query, trailing slash or userinfo',
  ])
  t.same(await problems({ origins: [APP], methods: ['GET POST'], allowedHeaders: ['bad header'], maxAge: -1, originMatcher: 'x', extra: 1 }), [
    'cors.methods[0]: must be an HTTP method (got string)',
    'cors.allowedHeaders[0]: must be a header name (got string)',
    'cors.maxAge: must be >= 0 (got number)',
    'cors.originMatcher: must be function (got string)',
    'cors.extra: is not a known option',
  ])
  t.same(await problems({}), ['cors.origins: is required'])
})

t.test('maxAge above Chromium\'s cap warns at register', async (t) => {
  const { stream, lines } = captureLogs()
  const app = Fastify({ logger: { level: 'warn', stream } })
  t.teardown(() => app.close())
  await app.register(corsPlugin, { origins: [APP], maxAge: 86400 })
  t.match(lines, [{ level: 40, msg: /maxAge is above 7200/ }])
})

t.test('bad route config throws at route add', async (t) => {
  const app = makeApp(t)
  await app.register(corsPlugin, { origins: [APP] })
  const bad = await caught(() => app.get('/a', { config: { security: { cors: { origins: ['https://*.com'], methods: 'GET' } as never } } }, async () => 1))
  t.equal(bad.code, 'FST_RAMPART_INVALID_ROUTE_CONFIG')
  t.same(bad.problems, ['config.security.cors.methods: must be a list (got string)'])
  const semantic = await caught(() => app.get('/b', { config: { security: { cors: { origins: ['https://*.com'] } } } }, async () => 1))
  t.same(semantic.problems, ['config.security.cors.origins[0]: a wildcard directly over a public suffix would trust every site under it'])
  const wrong = await caught(() => app.get('/c', { config: { security: { cors: 'off' as never } } }, async () => 1))
  t.same(wrong.problems, ['config.security.cors: must be false or an object (got string)'])
})

t.test('varyWithOrigin merges without duplicates', async (t) => {
  const { varyWithOrigin } = await import('../../plugins/cors/vary.js')
  t.equal(varyWithOrigin(undefined), 'Origin')
  t.equal(varyWithOrigin(' '), 'Origin')
  t.equal(varyWithOrigin('Accept-Encoding'), 'Accept-Encoding, Origin')
  t.equal(varyWithOrigin('accept-encoding, ORIGIN'), 'accept-encoding, ORIGIN')
  t.equal(varyWithOrigin('*'), '*')
})
