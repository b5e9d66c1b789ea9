import Fastify from 'fastify'
import t from 'tap'
import { auditHeaders, securityPlugin } from '../../index.js'
import { makeApp } from '../helpers.js'

t.test('our defaults pass the audit, API and HTML, plain and secure', async (t) => {
  const app = makeApp(t, { trustProxy: ['127.0.0.1'] })
  await app.register(securityPlugin, { rateLimit: false })
  app.get('/api', async () => ({ ok: 1 }))
  app.get('/page', async (_req, reply) => reply.type('text/html').send('<p>'))
  for (const url of ['/api', '/page', '/missing']) {
    t.same(auditHeaders(await app.inject(url)), [], url)
    const secure = await app.inject({ url, headers: { 'x-forwarded-proto': 'https' } })
    t.same(auditHeaders(secure, { secure: true }), [], `${url} over https`)
  }
})

t.test('a bare Fastify response lists what is missing', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.get('/', async () => ({ ok: 1 }))
  app.get('/page', async (_req, reply) => reply.type('text/html').header('x-powered-by', 'PHP/5').send('<p>'))
  t.same(
    auditHeaders(await app.inject('/'), { secure: true }).map((f) => `${f.issue} ${f.header}`),
    [
      'missing content-security-policy',
      'missing strict-transport-security',
      'missing x-content-type-options',
      'missing x-frame-options',
      'missing referrer-policy',
      'missing cache-control',
      'missing cross-origin-opener-policy',
      'missing cross-origin-resource-policy',
    ]
  )
  t.same(
    auditHeaders(await app.inject('/page')).map((f) => `${f.issue} ${f.header}`),
    [
      'missing content-security-policy',
      'missing x-content-type-options',
      'missing x-frame-options',
      'missing referrer-policy',
      'missing cross-origin-opener-policy',
      'missing cross-origin-resource-policy',
      'missing permissions-policy',
      'leak x-powered-by',
    ]
  )
})

const FULL = {
  'content-type': 'text/html',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=()',
}

t.test('weak values are named', async (t) => {
  const weak = (headers: Record<string, string>, secure = false) =>
    auditHeaders({ ...FULL, ...headers }, { secure }).map((f) => `${f.issue} ${f.header}: ${f.reason}`)
  t.same(weak({ 'content-security-policy': "script-src 'self' 'unsafe-inline' 'unsafe-eval' https:; object-src *; frame-ancestors 'none'" }), [
    "weak content-security-policy: script policy allows 'unsafe-inline' without a nonce or hash",
    "weak content-security-policy: script policy allows 'unsafe-eval'",
    'weak content-security-policy: script policy allows any host or scheme',
    "weak content-security-policy: object-src (or default-src) is not 'none' or 'self': plugins can load",
  ])
  t.same(weak({ 'content-security-policy': "script-src 'nonce-abc' 'unsafe-inline'; object-src 'none'", 'x-frame-options': 'DENY' }), [], 'a nonce makes unsafe-inline a fallback')
  t.same(weak({ 'content-security-policy': "img-src 'self'; object-src 'self'; frame-ancestors 'self'" }), [
    'weak content-security-policy: neither script-src nor default-src: scripts are unrestricted',
  ])
  t.same(weak({ 'content-security-policy-report-only': "default-src 'self'", 'x-frame-options': 'DENY' }), [
    'missing content-security-policy: only a Report-Only policy: nothing is enforced',
  ])
  t.same(weak({ 'content-security-policy': "default-src 'self'", 'x-frame-options': 'ALLOW-FROM https://a.example', 'strict-transport-security': 'max-age=3600' }, true), [
    'weak strict-transport-security: max-age under six months',
    'weak x-frame-options: only DENY and SAMEORIGIN are honoured (ALLOW-FROM is ignored)',
  ])
  t.same(weak({ 'content-security-policy': "default-src 'self'", 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer, unsafe-url', 'x-xss-protection': '1; mode=block', server: 'nginx', 'access-control-allow-origin': '*', 'access-control-allow-credentials': 'true' }), [
    'weak referrer-policy: full URLs leak to other origins',
    'weak x-xss-protection: only 0 is safe; the auditor that 1 enabled leaked data',
    'leak server: names the software stack',
    'weak access-control-allow-origin: * with credentials',
  ])
  t.same(auditHeaders({ 'content-type': 'application/json', 'content-security-policy': "default-src 'self'", 'x-frame-options': 'DENY', ...{ 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store', 'cross-origin-opener-policy': 'same-origin', 'cross-origin-resource-policy': 'same-origin' } }).map((f) => f.reason), [
    "an API response should use default-src 'none' (OWASP REST Security)",
  ])
})

t.test('fetch responses and header arrays are read too', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  app.get('/', async () => ({ ok: 1 }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const res = await fetch(`http://127.0.0.1:${(app.server.address() as { port: number }).port}/`)
  await res.arrayBuffer()
  t.same(auditHeaders(res), [])
  t.same(auditHeaders(res.headers), [])
  t.same(auditHeaders({ ...FULL, 'content-security-policy': "default-src 'self'", 'x-frame-options': 'DENY', 'set-cookie': ['a=1', 'b=2'], 'content-length': 5 }), [])
})
