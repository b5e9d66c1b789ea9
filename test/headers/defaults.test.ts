import fp from 'fastify-plugin'
import t from 'tap'
import { headersPlugin, securityPlugin } from '../../index.js'
import { API_DEFAULTS, HTML_DEFAULTS, headersOf, makeApp } from '../helpers.js'

t.test('a JSON response gets the API set with zero config', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  app.get('/', async () => ({ ok: true }))
  const res = await app.inject('/')
  t.equal(res.statusCode, 200)
  t.same(headersOf(res), API_DEFAULTS)
})

t.test('headersPlugin registered alone sends the same set', async (t) => {
  const app = makeApp(t)
  await app.register(headersPlugin)
  app.get('/', async () => ({ ok: true }))
  t.same(headersOf(await app.inject('/')), API_DEFAULTS)
})

t.test('an HTML response gets the document set', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send('<p>hi</p>'))
  app.get('/xhtml', async (_req, reply) => reply.type('application/xhtml+xml').send('<p/>'))
  t.same(headersOf(await app.inject('/')), HTML_DEFAULTS)
  t.same(headersOf(await app.inject('/xhtml')), { ...HTML_DEFAULTS, 'content-type': 'application/xhtml+xml' })
})

t.test('404s get the set', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  const res = await app.inject('/missing')
  t.equal(res.statusCode, 404)
  t.same(headersOf(res), API_DEFAULTS)
})

t.test('a custom 404 handler in HTML gets the document set', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  app.setNotFoundHandler((_req, reply) =>
    reply.code(404).type('text/html; charset=utf-8').send('<h1>gone</h1>')
  )
  const res = await app.inject('/missing')
  t.equal(res.statusCode, 404)
  t.same(headersOf(res), HTML_DEFAULTS)
})

t.test('errors thrown by handlers get the set', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  app.get('/boom', async () => {
    throw new Error('secret internals')
  })
  const res = await app.inject('/boom')
  t.equal(res.statusCode, 500)
  t.same(headersOf(res), API_DEFAULTS)
})

t.test('a reply sent from an earlier hook gets the set', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  app.get(
    '/early',
    { onRequest: async (_req, reply) => reply.code(401).send({ no: true }) },
    async () => 'never'
  )
  const res = await app.inject('/early')
  t.equal(res.statusCode, 401)
  t.same(headersOf(res), API_DEFAULTS)
})

t.test("another plugin's error gets the set, whichever registered first", async (t) => {
  const auth = fp(async (app) => {
    app.addHook('onRequest', async () => {
      throw Object.assign(new Error('Unauthorized'), { statusCode: 401 })
    })
  })
  for (const order of ['before', 'after']) {
    const app = makeApp(t)
    if (order === 'before') await app.register(auth)
    await app.register(securityPlugin, { rateLimit: false })
    if (order === 'after') await app.register(auth)
    app.get('/', async () => 'never')
    const res = await app.inject('/')
    t.equal(res.statusCode, 401, order)
    t.same(headersOf(res), API_DEFAULTS, order)
  }
})

t.test('Cache-Control set by the handler or route hook is kept', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  app.get('/cached', async (_req, reply) =>
    reply.header('cache-control', 'public, max-age=60').send({ ok: 1 })
  )
  app.get('/raw', async (_req, reply) => {
    reply.raw.setHeader('Cache-Control', 'private, max-age=5')
    return { ok: 1 }
  })
  t.same(headersOf(await app.inject('/cached')), { ...API_DEFAULTS, 'cache-control': 'public, max-age=60' })
  t.same(headersOf(await app.inject('/raw')), { ...API_DEFAULTS, 'cache-control': 'private, max-age=5' })
})

t.test("a security header the handler set itself is the route's choice and is kept", async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  app.get('/', async (_req, reply) => reply.header('X-Frame-Options', 'SAMEORIGIN').send({ ok: 1 }))
  t.same(headersOf(await app.inject('/')), { ...API_DEFAULTS, 'x-frame-options': 'SAMEORIGIN' })
})

t.test('X-Powered-By and Server are removed, whoever set them', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  app.addHook('onRequest', async (_req, reply) => {
    reply.header('X-Powered-By', 'Express')
    reply.raw.setHeader('Server', 'nginx/1.2.3')
  })
  app.get('/', async () => ({ ok: 1 }))
  t.same(headersOf(await app.inject('/')), API_DEFAULTS)
})

t.test('streams and buffers with an HTML type get the document set', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  app.get('/buf', async (_req, reply) => reply.type('TEXT/HTML').send(Buffer.from('<p>x</p>')))
  t.same(headersOf(await app.inject('/buf')), { ...HTML_DEFAULTS, 'content-type': 'TEXT/HTML' })
})

t.test('over a real socket the headers reach the client', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  app.get('/', async () => ({ ok: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address() as { port: number }
  const res = await fetch(`http://127.0.0.1:${address.port}/`)
  t.equal(res.headers.get('content-security-policy'), API_DEFAULTS['content-security-policy'])
  t.equal(res.headers.get('x-frame-options'), 'DENY')
  t.equal(res.headers.get('strict-transport-security'), null, 'no HSTS over plain HTTP')
  await res.arrayBuffer()
})
