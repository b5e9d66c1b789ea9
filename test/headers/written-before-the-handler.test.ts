import t from 'tap'
import { headersPlugin, securityPlugin } from '../../index.js'
import { API_DEFAULTS, HTML_DEFAULTS, headersOf, makeApp } from '../helpers.js'

// The header list is written in onRequest, before the handler; onSend only
// corrects it. These are the corrections.

t.test('the handler sees the API set already written, and its own values replace it', async (t) => {
  const app = makeApp(t)
  await app.register(headersPlugin)
  let seen: unknown
  app.get('/', async (_req, reply) => {
    seen = reply.getHeader('x-frame-options')
    reply.header('x-frame-options', 'SAMEORIGIN').header('cache-control', 'max-age=60')
    return { ok: true }
  })
  const res = await app.inject('/')
  t.equal(seen, 'DENY')
  t.same(headersOf(res), { ...API_DEFAULTS, 'x-frame-options': 'SAMEORIGIN', 'cache-control': 'max-age=60' })
})

t.test('headers the handler set on the raw response win over ours', async (t) => {
  const app = makeApp(t)
  await app.register(headersPlugin)
  app.get('/', async (_req, reply) => {
    reply.raw.setHeader('cache-control', 'public, max-age=30')
    reply.raw.setHeader('x-frame-options', 'SAMEORIGIN')
    reply.raw.setHeader('x-own', 'kept')
    return { ok: true }
  })
  const res = await app.inject('/')
  t.same(headersOf(res), {
    ...API_DEFAULTS,
    'cache-control': 'public, max-age=30',
    'x-frame-options': 'SAMEORIGIN',
    'x-own': 'kept',
  })
})

t.test('an HTML response swaps the API values for the document set, keeping the handler\'s own', async (t) => {
  const app = makeApp(t)
  await app.register(headersPlugin)
  app.get('/page', async (_req, reply) => reply.type('text/html; charset=utf-8').send('<p>hi</p>'))
  app.get('/json', async () => ({ ok: true }))
  app.get('/own', async (_req, reply) => {
    reply.header('content-security-policy', "default-src 'self'")
    reply.raw.setHeader('referrer-policy', 'origin')
    return reply.type('text/html; charset=utf-8').send('<p>hi</p>')
  })
  t.same(headersOf(await app.inject('/page')), HTML_DEFAULTS)
  t.same(headersOf(await app.inject('/own')), {
    ...HTML_DEFAULTS,
    'content-security-policy': "default-src 'self'",
    'referrer-policy': 'origin',
  })
  // And the next JSON response is the API set again.
  t.same(headersOf(await app.inject('/json')), API_DEFAULTS)
})

t.test('an HTML response under a Report-Only policy drops the API policy written early', async (t) => {
  const app = makeApp(t)
  await app.register(headersPlugin, { contentSecurityPolicy: { reportOnly: true } })
  app.get('/page', async (_req, reply) => reply.type('text/html').send('<p>hi</p>'))
  const headers = headersOf(await app.inject('/page'))
  t.equal(headers['content-security-policy'], undefined)
  t.match(headers['content-security-policy-report-only'], /^default-src 'self'/)
})

t.test('an answer sent by an earlier hook gets the whole set in onSend', async (t) => {
  const app = makeApp(t)
  app.addHook('onRequest', async (_req, reply) => reply.code(401).send({ denied: true }))
  await app.register(headersPlugin)
  app.get('/', async () => ({ ok: true }))
  const res = await app.inject('/')
  t.equal(res.statusCode, 401)
  t.same(headersOf(res), API_DEFAULTS)
})

t.test('the profile html writes the document set early', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false, headers: { profile: 'html' } })
  app.get('/', async () => ({ ok: true }))
  const res = await app.inject('/')
  t.same(headersOf(res), { ...HTML_DEFAULTS, 'content-type': 'application/json; charset=utf-8' })
})

t.test('a header the handler removes stays removed, on API and HTML responses alike', async (t) => {
  const app = makeApp(t)
  await app.register(headersPlugin)
  app.get('/json', async (_req, reply) => {
    reply.removeHeader('x-frame-options')
    return { ok: true }
  })
  app.get('/page', async (_req, reply) => {
    reply.removeHeader('x-frame-options').removeHeader('cache-control')
    return reply.type('text/html').send('<p>hi</p>')
  })
  const { 'x-frame-options': _api, ...api } = API_DEFAULTS
  const { 'x-frame-options': _html, 'cache-control': _cache, ...html } = HTML_DEFAULTS
  t.same(headersOf(await app.inject('/json')), api)
  t.same(headersOf(await app.inject('/page')), { ...html, 'content-type': 'text/html' })
})
