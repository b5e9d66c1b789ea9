import { request } from 'node:https'
import Fastify from 'fastify'
import t from 'tap'
import { securityPlugin } from '../../index.js'
import { API_DEFAULTS, caught, HSTS_DEFAULT, headersOf, makeApp, selfSignedCert } from '../helpers.js'

t.test('no HSTS on a plain-HTTP request', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  app.get('/', async () => ({ ok: 1 }))
  t.same(headersOf(await app.inject('/')), API_DEFAULTS)
})

t.test('X-Forwarded-Proto: https counts only from a trusted proxy', async (t) => {
  const trusted = makeApp(t, { trustProxy: ['127.0.0.1'] })
  await trusted.register(securityPlugin, { rateLimit: false })
  trusted.get('/', async () => ({ ok: 1 }))
  const res = await trusted.inject({ url: '/', headers: { 'x-forwarded-proto': 'https' } })
  t.same(headersOf(res), { ...API_DEFAULTS, 'strict-transport-security': HSTS_DEFAULT })

  const untrusted = makeApp(t)
  await untrusted.register(securityPlugin, { rateLimit: false })
  untrusted.get('/', async () => ({ ok: 1 }))
  const spoofed = await untrusted.inject({ url: '/', headers: { 'x-forwarded-proto': 'https' } })
  t.same(headersOf(spoofed), API_DEFAULTS, 'a client cannot claim https')

  const otherProxy = makeApp(t, { trustProxy: ['10.0.0.0/8'] })
  await otherProxy.register(securityPlugin, { rateLimit: false })
  otherProxy.get('/', async () => ({ ok: 1 }))
  const notTrusted = await otherProxy.inject({ url: '/', headers: { 'x-forwarded-proto': 'https' } })
  t.same(headersOf(notTrusted), API_DEFAULTS, 'a peer outside the trusted range cannot either')
})

t.test('a TLS socket gets HSTS', async (t) => {
  const { key, cert } = selfSignedCert()
  const app = Fastify({ https: { key, cert } })
  t.teardown(() => app.close())
  await app.register(securityPlugin, { rateLimit: false })
  app.get('/', async () => ({ ok: 1 }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', ca: cert }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.headers))
    })
    req.on('error', reject)
    req.end()
  })
  t.equal(headers['strict-transport-security'], HSTS_DEFAULT)
})

t.test('force sends HSTS on plain HTTP, for TLS terminated elsewhere', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false, headers: { hsts: { force: true, maxAge: 63072000 } } })
  app.get('/', async () => ({ ok: 1 }))
  t.same(headersOf(await app.inject('/')), {
    ...API_DEFAULTS,
    'strict-transport-security': 'max-age=63072000; includeSubDomains',
  })
})

t.test('preload and includeSubDomains options render', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false, headers: { hsts: { force: true, preload: true } } })
  app.get('/', async () => ({ ok: 1 }))
  app.get(
    '/nosub',
    { config: { security: { headers: { hsts: { preload: false, includeSubDomains: false } } } } },
    async () => 1
  )
  t.equal((await app.inject('/')).headers['strict-transport-security'], `${HSTS_DEFAULT}; preload`)
  t.equal((await app.inject('/nosub')).headers['strict-transport-security'], 'max-age=31536000')
})

t.test('hsts: false sends none even over https', async (t) => {
  const app = makeApp(t, { trustProxy: ['127.0.0.1'] })
  await app.register(securityPlugin, { rateLimit: false, headers: { hsts: false } })
  app.get('/', async () => ({ ok: 1 }))
  const res = await app.inject({ url: '/', headers: { 'x-forwarded-proto': 'https' } })
  t.same(headersOf(res), API_DEFAULTS)
})

t.test('preload needs a year and includeSubDomains', async (t) => {
  for (const hsts of [
    { preload: true, maxAge: 86400 },
    { preload: true, includeSubDomains: false },
  ]) {
    const err = await caught(() => Fastify().register(securityPlugin, { rateLimit: false, headers: { hsts } }).ready())
    t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
    t.same(err.problems, [
      'headers.hsts.preload: the preload list requires maxAge >= 31536000 and includeSubDomains',
    ])
  }
})

t.test('bad HSTS values are listed', async (t) => {
  const err = await caught(() =>
    Fastify()
      .register(securityPlugin, {
        rateLimit: false,
        headers: { hsts: { maxAge: -1, includeSubDomains: 'yes', extra: 1 } as never },
      })
      .ready()
  )
  t.same(err.problems, [
    'headers.hsts.maxAge: must be >= 0 (got number)',
    'headers.hsts.includeSubDomains: must be boolean (got string)',
    'headers.hsts.extra: is not a known option',
  ])
  const notObject = await caught(() =>
    Fastify()
      .register(securityPlugin, { rateLimit: false, headers: { hsts: 'on' as never } })
      .ready()
  )
  t.same(notObject.problems, ['headers.hsts: must be false or an object (got string)'])
})

t.test('HSTS on secure requests whatever path the headers take: HTML responses and answers sent before the plugin ran', async (t) => {
  const app = makeApp(t, { trustProxy: ['127.0.0.1'] })
  app.addHook('onRequest', async (request, reply) => {
    if (request.url === '/early') return reply.code(401).send({ denied: true })
  })
  await app.register(securityPlugin, { rateLimit: false })
  app.get('/page', async (_req, reply) => reply.type('text/html').send('<p>hi</p>'))
  app.get('/early', async () => ({ ok: 1 }))
  const secure = { 'x-forwarded-proto': 'https' }
  const page = await app.inject({ url: '/page', headers: secure })
  t.equal(page.headers['strict-transport-security'], HSTS_DEFAULT)
  t.match(page.headers['content-security-policy'], /^default-src 'self'/)
  const early = await app.inject({ url: '/early', headers: secure })
  t.equal(early.statusCode, 401)
  t.same(headersOf(early), { ...API_DEFAULTS, 'strict-transport-security': HSTS_DEFAULT })
  t.equal((await app.inject('/early')).headers['strict-transport-security'], undefined, 'and none over plain HTTP')
})
