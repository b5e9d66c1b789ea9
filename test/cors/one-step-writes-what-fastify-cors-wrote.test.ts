import t from 'tap'
import { corsPlugin, securityPlugin } from '../../index.js'
import { resolve } from '../../plugins/cors/plugin.js'
import { varyWithOrigin } from '../../plugins/cors/vary.js'
import { makeApp } from '../helpers.js'

// Issue 17: rampart writes the CORS headers itself, from values computed at
// registration, and answers every preflight in its own step; @fastify/cors
// only serves its catch-all OPTIONS route. The header sets are the ones
// @fastify/cors wrote when it did the writing.

const APP = 'https://app.example.com'

function corsHeaders (res: { headers: Record<string, unknown> }): Record<string, unknown> {
  return Object.fromEntries(Object.entries(res.headers).filter(([k]) => k.startsWith('access-control-') || k === 'vary' || k === 'cache-control' || k === 'content-length'))
}

const preflight = (url: string, headers: Record<string, string>) => ({
  method: 'OPTIONS' as const,
  url,
  headers: { origin: APP, 'access-control-request-method': 'GET', ...headers },
})

t.test('a refused origin and a request without Origin get Vary alone, whatever the policy adds for allowed ones', async (t) => {
  const app = makeApp(t)
  await app.register(corsPlugin, { origins: [APP], credentials: true, exposedHeaders: ['X-Request-Id'] })
  app.get('/', async () => 'x')
  app.options('/', async () => 'own OPTIONS')
  t.same(corsHeaders(await app.inject({ url: '/', headers: { origin: APP } })), {
    vary: 'Origin',
    'access-control-allow-origin': APP,
    'access-control-allow-credentials': 'true',
    'access-control-expose-headers': 'X-Request-Id',
    'content-length': '1',
  })
  t.same(corsHeaders(await app.inject({ url: '/', headers: { origin: 'https://evil.example' } })), { vary: 'Origin', 'content-length': '1' })
  t.same(corsHeaders(await app.inject({ url: '/' })), { vary: 'Origin', 'content-length': '1' })
  const notPreflight = await app.inject({ method: 'OPTIONS', url: '/', headers: { origin: APP } })
  t.equal(notPreflight.body, 'own OPTIONS', 'an OPTIONS request without Access-Control-Request-Method reaches the route')
  t.equal(notPreflight.headers['access-control-allow-origin'], APP, 'and is an actual request for CORS')
})

t.test('Vary from an earlier hook is merged once: a list, a raw header, a *', async (t) => {
  const cases: [string, (reply: { header: (k: string, v: unknown) => unknown; raw: { setHeader: (k: string, v: string) => void } }) => void, string][] = [
    ['a list', (reply) => reply.header('vary', ['Accept', 'Accept-Encoding']), 'Accept, Accept-Encoding, Origin'],
    ['a raw header', (reply) => reply.raw.setHeader('Vary', 'Accept'), 'Accept, Origin'],
    ['already there', (reply) => reply.header('vary', 'ORIGIN'), 'ORIGIN'],
    ['a *', (reply) => reply.header('vary', 'Accept, *'), '*'],
  ]
  for (const [name, set, expected] of cases) {
    const app = makeApp(t)
    app.addHook('onRequest', (_request, reply, done) => {
      set(reply as never)
      done()
    })
    await app.register(corsPlugin, { origins: [APP] })
    app.get('/', async () => 'x')
    t.equal((await app.inject({ url: '/', headers: { origin: APP } })).headers.vary, expected, name)
    t.equal((await app.inject(preflight('/', {}))).headers.vary, expected, `${name}, preflight`)
    t.equal((await app.inject(preflight('/nowhere', {}))).headers.vary, expected, `${name}, refused preflight`)
  }
  t.equal(varyWithOrigin(['Accept', 'origin']), 'Accept, origin')
  t.equal(varyWithOrigin(7), 'Origin', 'not a header value: replaced')
})

t.test('an allowed preflight to an app-defined OPTIONS route gets the whole preflight set, before the route runs', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, {
    rateLimit: false,
    cors: {
      origins: [APP],
      credentials: true,
      exposedHeaders: ['X-Request-Id'],
      methods: ['GET', 'PUT'],
      allowedHeaders: [],
      maxAge: 60,
      allowPrivateNetwork: true,
      cacheControl: 'max-age=60',
    },
  })
  let ran = 0
  app.route({ method: ['GET', 'PUT', 'OPTIONS'], url: '/items', handler: async () => { ran++; return 'x' } })
  const res = await app.inject(preflight('/items', { 'access-control-request-method': 'PUT', 'access-control-request-private-network': 'true' }))
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  t.same(corsHeaders(res), {
    vary: 'Origin',
    'access-control-allow-origin': APP,
    'access-control-allow-credentials': 'true',
    'access-control-expose-headers': 'X-Request-Id',
    'access-control-allow-methods': 'GET, PUT',
    'access-control-allow-headers': '',
    'access-control-max-age': '60',
    'access-control-allow-private-network': 'true',
    'cache-control': 'max-age=60',
    'content-length': '0',
  })
  t.equal(res.headers['x-frame-options'], 'DENY', 'the headers plugin still adds its set')
  t.equal(ran, 0)
})

t.test("a route's own policy governs its actual requests; config.cors: false still turns the headers off", async (t) => {
  const app = makeApp(t)
  await app.register(corsPlugin, { origins: [APP] })
  app.get('/partner', { config: { security: { cors: { origins: ['https://partner.example'], credentials: true, exposedHeaders: ['X-Partner'] } } } }, async () => 'x')
  app.get('/legacy', { config: { cors: false } as never }, async () => 'x')
  app.get('/plain', async () => 'x')
  t.same(corsHeaders(await app.inject({ url: '/partner', headers: { origin: 'https://partner.example' } })), {
    vary: 'Origin',
    'access-control-allow-origin': 'https://partner.example',
    'access-control-allow-credentials': 'true',
    'access-control-expose-headers': 'X-Partner',
    'content-length': '1',
  })
  t.same(corsHeaders(await app.inject({ url: '/partner', headers: { origin: APP } })), { vary: 'Origin', 'content-length': '1' })
  t.same(corsHeaders(await app.inject({ url: '/legacy', headers: { origin: APP } })), { 'content-length': '1' }, '@fastify/cors\'s switch: no CORS headers')
  t.equal((await app.inject(preflight('/legacy', {}))).statusCode, 204, 'its preflight is judged by the plugin policy, as before')
  t.equal((await app.inject({ url: '/plain', headers: { origin: APP } })).headers['access-control-allow-origin'], APP)
})

t.test('@fastify/cors serves only its OPTIONS route: its hook and decorator stay out of every other route', async (t) => {
  const app = makeApp(t)
  await app.register(corsPlugin, { origins: [APP] })
  let decorated: boolean | undefined
  app.get('/', async (request) => {
    decorated = 'corsPreflightEnabled' in request
    return 'x'
  })
  await app.ready()
  t.ok(app.hasRoute({ method: 'OPTIONS', url: '/*' }), 'the catch-all OPTIONS route is there')
  await app.inject({ url: '/', headers: { origin: APP } })
  t.equal(decorated, false)
  const stray = await app.inject({ method: 'OPTIONS', url: '/', headers: { origin: APP } })
  t.equal(stray.statusCode, 404, 'an OPTIONS request that is no preflight still 404s on the catch-all')
  t.same(corsHeaders(stray), { vary: 'Origin', 'access-control-allow-origin': APP, 'content-length': stray.headers['content-length'] })
})

t.test('resolve (for securityPlugin) stops at invalid options', async (t) => {
  const problems: string[] = []
  t.equal(resolve({ origins: 'x' }, 'cors', problems), undefined)
  t.same(problems, ['cors.origins: must be a list (got string)'])
})

t.test('in a fused hook (as securityPlugin runs it) the step goes on, answers, or waits for an async matcher', async (t) => {
  const { startFusing, endFusing } = await import('../../lib/steps.js')
  const app = makeApp(t)
  startFusing(app)
  await app.register(corsPlugin, { origins: [APP], originMatcher: async (origin) => origin === 'https://tenant.example' })
  endFusing(app)
  const after: string[] = []
  app.addHook('onRequest', async (request) => { after.push(request.method) })
  app.get('/', async () => 'x')
  t.equal((await app.inject({ url: '/', headers: { origin: APP } })).headers['access-control-allow-origin'], APP)
  t.equal((await app.inject({ url: '/', headers: { origin: 'https://tenant.example' } })).headers['access-control-allow-origin'], 'https://tenant.example', 'after the lookup')
  t.equal((await app.inject(preflight('/', { origin: 'https://other.example' }))).statusCode, 403, 'after a lookup that refuses')
  t.equal((await app.inject(preflight('/', {}))).statusCode, 204)
  t.same(after, ['GET', 'GET'], 'the hooks after it ran for actual requests only')
})
