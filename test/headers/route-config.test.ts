import Fastify from 'fastify'
import t from 'tap'
import { headersPlugin, securityPlugin } from '../../index.js'
import { API_DEFAULTS, caught, HTML_DEFAULTS, headersOf, makeApp } from '../helpers.js'

t.test('headers: false turns the plugin off for one route only', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  app.get('/off', { config: { security: { headers: false } } }, async () => ({ ok: 1 }))
  app.get('/on', async () => ({ ok: 1 }))
  t.same(headersOf(await app.inject('/off')), { 'content-type': 'application/json; charset=utf-8' })
  t.same(headersOf(await app.inject('/on')), API_DEFAULTS)
})

t.test('a route object is merged over the plugin options', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, {
    rateLimit: false,
    headers: { frameOptions: 'SAMEORIGIN', contentSecurityPolicy: { directives: { imgSrc: ["'self'"] } } },
  })
  app.get(
    '/public',
    {
      config: {
        security: {
          headers: {
            cacheControl: 'public, max-age=300',
            crossOriginResourcePolicy: 'cross-origin',
            contentSecurityPolicy: { directives: { connectSrc: ["'self'", 'https://api.example.com'] } },
          },
        },
      },
    },
    async (_req, reply) => reply.type('text/html; charset=utf-8').send('<p>')
  )
  app.get('/plain', async (_req, reply) => reply.type('text/html; charset=utf-8').send('<p>'))
  t.same(headersOf(await app.inject('/public')), {
    ...HTML_DEFAULTS,
    'cache-control': 'public, max-age=300',
    'x-frame-options': 'SAMEORIGIN',
    'cross-origin-resource-policy': 'cross-origin',
    'content-security-policy': `${HTML_DEFAULTS['content-security-policy']}; img-src 'self'; connect-src 'self' https://api.example.com`,
  })
  t.same(headersOf(await app.inject('/plain')), {
    ...HTML_DEFAULTS,
    'x-frame-options': 'SAMEORIGIN',
    'content-security-policy': `${HTML_DEFAULTS['content-security-policy']}; img-src 'self'`,
  })
})

t.test('cacheControl: false on a route leaves caching to the handler', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  app.get('/health', { config: { security: { headers: { cacheControl: false } } } }, async () => ({ ok: 1 }))
  const { 'cache-control': _, ...rest } = API_DEFAULTS
  t.same(headersOf(await app.inject('/health')), rest)
})

t.test('a route can turn on the HTML profile and a nonce', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  app.get(
    '/app',
    {
      config: { security: { headers: { profile: 'html', contentSecurityPolicy: { nonce: ['scriptSrc'] } } } },
    },
    async (_req, reply) => ({ nonce: reply.cspNonce })
  )
  const res = await app.inject('/app')
  const { nonce } = res.json()
  t.same(headersOf(res), {
    ...HTML_DEFAULTS,
    'content-type': 'application/json; charset=utf-8',
    'content-security-policy': `${HTML_DEFAULTS['content-security-policy']}; script-src 'self' 'nonce-${nonce}'`,
  })
})

t.test('a route config shared by several routes works for each', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  const config = { security: { headers: { frameOptions: 'SAMEORIGIN' as const } } }
  app.get('/a', { config }, async () => ({}))
  app.get('/b', { config }, async () => ({}))
  for (const url of ['/a', '/b']) t.equal((await app.inject(url)).headers['x-frame-options'], 'SAMEORIGIN')
  t.same(config, { security: { headers: { frameOptions: 'SAMEORIGIN' } } }, 'the shared object is untouched')
  t.equal(
    (await app.inject({ method: 'HEAD', url: '/a' })).headers['x-frame-options'],
    'SAMEORIGIN',
    'HEAD too'
  )
})

t.test('bad route config throws at route add, naming the route and every problem', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  const err = await caught(() =>
    app.get(
      '/x',
      {
        config: {
          security: {
            headers: { frameOptions: 'ALLOW-FROM https://a', hsts: { maxAge: 'long' }, nope: 1 } as never,
          },
        },
      },
      async () => 1
    )
  )
  t.equal(err.code, 'FST_RAMPART_INVALID_ROUTE_CONFIG')
  t.same(err.problems, [
    'config.security.headers.frameOptions: ALLOW-FROM is obsolete and ignored by current browsers; use contentSecurityPolicy.directives.frameAncestors',
    'config.security.headers.hsts.maxAge: must be integer (got string)',
    'config.security.headers.nope: is not a known option',
  ])
  t.match(err.message, /^Invalid config\.security for route GET \/x:\n/)

  const csp = await caught(() =>
    app.get(
      '/y',
      {
        config: { security: { headers: { contentSecurityPolicy: { directives: { scriptSrc: ['self'] } } } } },
      },
      async () => 1
    )
  )
  t.same(csp.problems, [
    "config.security.headers.contentSecurityPolicy.directives.scriptSrc[0]: the keyword must be quoted ('self'); unquoted it names a host",
  ])
  const notObject = await caught(() =>
    app.get('/z', { config: { security: { headers: 'off' as never } } }, async () => 1)
  )
  t.same(notObject.problems, ['config.security.headers: must be false or an object (got string)'])

  app.get('/fine', async () => ({}))
  t.same(headersOf(await app.inject('/fine')), API_DEFAULTS, 'nothing else broke')
})

t.test('the security container itself is checked', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  const typo = await caught(() =>
    app.get('/a', { config: { security: { header: false } as never } }, async () => 1)
  )
  t.same(typo.problems, [
    'config.security.header: is not a known option (expected headers, trustedHost, cors, rateLimit, jwt, webhook, mtls)',
  ])
  const wrong = await caught(() =>
    app.route({
      method: ['GET', 'POST'],
      url: '/b',
      config: { security: true as never },
      handler: async () => 1,
    })
  )
  t.match(wrong.message, /route GET,POST \/b/)
  t.same(wrong.problems, ['config.security: must be an object (got boolean)'])
})

t.test('routes in a child scope use the scope plugin; siblings are untouched', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(async (child) => {
    await child.register(headersPlugin, { frameOptions: 'SAMEORIGIN' })
    child.get('/inside', async () => ({}))
  })
  app.get('/outside', async () => ({}))
  t.equal((await app.inject('/inside')).headers['x-frame-options'], 'SAMEORIGIN')
  t.same(headersOf(await app.inject('/outside')), { 'content-type': 'application/json; charset=utf-8' })
})

t.test('two scopes with different options keep their own route sets', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  for (const [prefix, frameOptions] of [
    ['/a', 'DENY'],
    ['/b', 'SAMEORIGIN'],
  ] as const) {
    await app.register(
      async (child) => {
        await child.register(headersPlugin, { frameOptions, cacheControl: 'private' })
        child.get('/', { config: { security: { headers: { cacheControl: 'no-cache' } } } }, async () => ({}))
      },
      { prefix }
    )
  }
  for (const [url, want] of [
    ['/a', 'DENY'],
    ['/b', 'SAMEORIGIN'],
  ]) {
    const res = await app.inject(url)
    t.equal(res.headers['x-frame-options'], want)
    t.equal(res.headers['cache-control'], 'no-cache')
  }
})
