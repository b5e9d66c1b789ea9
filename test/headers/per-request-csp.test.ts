import Fastify, { type FastifyRequest } from 'fastify'
import t from 'tap'
import { headersPlugin, securityPlugin } from '../../index.js'
import { captureLogs, caught, HTML_DEFAULTS, headersOf, makeApp } from '../helpers.js'

const TENANT_SITES: Record<string, string[]> = {
  acme: ['https://acme.example', 'https://*.acme.example'],
  globex: ["'self'", 'https://globex.example'],
}

function tenantAncestors (request: FastifyRequest): readonly string[] | undefined {
  return TENANT_SITES[(request.params as { tenant: string }).tenant]
}

t.test('reply.cspNonce on a route whose policy has no nonce throws FST_RAMPART_CSP_NONCE_OFF', async (t) => {
  const app = makeApp(t)
  await app.register(headersPlugin)
  app.get('/page', async (_req, reply) => reply.type('text/html').send(`<script nonce="${reply.cspNonce}"></script>`))
  app.get(
    '/nonced',
    { config: { security: { headers: { contentSecurityPolicy: { nonce: ['scriptSrc'] } } } } },
    async (_req, reply) => reply.type('text/html').send(`<script nonce="${reply.cspNonce}"></script>`)
  )
  app.get('/off', { config: { security: { headers: false } } }, async (_req, reply) => ({ nonce: reply.cspNonce }))
  const res = await app.inject('/page')
  t.equal(res.statusCode, 500)
  t.equal(res.json().code, 'FST_RAMPART_CSP_NONCE_OFF')
  t.match(res.json().message, "set headers.contentSecurityPolicy.nonce (true, ['scriptSrc'] or ['styleSrc'])")
  t.equal((await app.inject('/off')).json().code, 'FST_RAMPART_CSP_NONCE_OFF', 'headers off on the route')
  const ok = await app.inject('/nonced')
  const nonce = /nonce="([^"]+)"/.exec(ok.body)?.[1]
  t.match(ok.headers['content-security-policy'], `script-src 'self' 'nonce-${nonce}'`)
})

t.test('reply.cspNonce works on every route of a nonced plugin, unless the route drops its CSP', async (t) => {
  const app = makeApp(t)
  await app.register(headersPlugin, { contentSecurityPolicy: { nonce: true } })
  app.get('/page', async (_req, reply) => ({ nonce: reply.cspNonce, again: reply.cspNonce }))
  app.get('/plain', { config: { security: { headers: { contentSecurityPolicy: false } } } }, async (_req, reply) => ({ nonce: reply.cspNonce }))
  app.setNotFoundHandler((_req, reply) => reply.code(404).type('text/html').send('<p>gone</p>'))
  const page = (await app.inject('/page')).json()
  t.match(page.nonce, /^[A-Za-z0-9+/]{22}==$/)
  t.equal(page.again, page.nonce, 'one nonce per response')
  t.equal((await app.inject('/plain')).json().code, 'FST_RAMPART_CSP_NONCE_OFF')
  // A 404 (no route, so no route marker) still gets the nonced policy: the hook itself never throws.
  const missing = await app.inject('/missing')
  t.equal(missing.statusCode, 404)
  t.match(missing.headers['content-security-policy'], /script-src 'self' 'nonce-[A-Za-z0-9+/]{22}=='/)
})

t.test('frameAncestorsFor picks frame-ancestors per request, only on the routes that set it', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false, headers: { frameOptions: false } })
  let calls = 0
  const embed = {
    config: {
      security: {
        headers: {
          contentSecurityPolicy: {
            frameAncestorsFor: (request: FastifyRequest) => {
              calls++
              return tenantAncestors(request)
            },
          },
        },
      },
    },
  }
  app.get('/embed/:tenant', embed, async (_req, reply) => reply.type('text/html; charset=utf-8').send('<p>widget</p>'))
  app.get('/embed/:tenant/data', embed, async () => ({ ok: true }))
  app.get('/other', async (_req, reply) => reply.type('text/html; charset=utf-8').send('<p>other</p>'))

  const { 'x-frame-options': _xfo, ...html } = HTML_DEFAULTS
  t.same(headersOf(await app.inject('/embed/acme')), {
    ...html,
    'content-security-policy': "default-src 'self'; base-uri 'self'; form-action 'self'; object-src 'none'; upgrade-insecure-requests; frame-ancestors https://acme.example https://*.acme.example",
  })
  t.equal(
    (await app.inject('/embed/globex/data')).headers['content-security-policy'],
    "default-src 'none'; frame-ancestors 'self' https://globex.example",
    'the API policy too'
  )
  t.equal(
    (await app.inject('/embed/unknown')).headers['content-security-policy'],
    HTML_DEFAULTS['content-security-policy'].replace("frame-ancestors 'none'; upgrade-insecure-requests", "upgrade-insecure-requests; frame-ancestors 'none'"),
    'undefined: the configured frame-ancestors'
  )
  t.equal(calls, 3)
  t.same(headersOf(await app.inject('/other')), html, 'other routes: the precomputed set')
  t.equal(calls, 3, 'and the hook is not called for them')
})

t.test('a bad answer or a throw from frameAncestorsFor sends frame-ancestors none, logged once per 10 s', async (t) => {
  const { stream, lines } = captureLogs()
  const app = makeApp(t, { logger: { stream, level: 'warn' } })
  const answers: Record<string, unknown> = {
    inject: ['https://ok.example; script-src *'],
    keyword: ["'unsafe-inline'"],
    'not-a-list': 'https://acme.example',
    long: Array.from({ length: 33 }, (_, i) => `https://s${i}.example`),
    'none-and-more': ["'none'", 'https://acme.example'],
    empty: [],
  }
  await app.register(headersPlugin, {
    frameOptions: false,
    contentSecurityPolicy: {
      nonce: ['scriptSrc'],
      directives: { frameAncestors: false },
      frameAncestorsFor (request) {
        const tenant = (request.params as { tenant: string }).tenant
        if (tenant === 'throws') throw new Error('tenant store down')
        return answers[tenant] as string[] | undefined
      },
    },
  })
  app.get('/:tenant', async (_req, reply) => reply.type('text/html').send(`<script nonce="${reply.cspNonce}"></script>`))
  const base = (nonce: string) => `default-src 'self'; base-uri 'self'; form-action 'self'; object-src 'none'; upgrade-insecure-requests; script-src 'self' 'nonce-${nonce}'`
  for (const tenant of [...Object.keys(answers), 'throws']) {
    const res = await app.inject(`/${tenant}`)
    const nonce = /nonce="([^"]+)"/.exec(res.body)?.[1] as string
    t.equal(res.headers['content-security-policy'], `${base(nonce)}; frame-ancestors 'none'`, tenant)
  }
  const unset = await app.inject('/unknown')
  t.equal(unset.headers['content-security-policy'], base(/nonce="([^"]+)"/.exec(unset.body)?.[1] as string), 'undefined and no configured frame-ancestors: none sent')
  const warnings = lines.filter((l) => l.msg.includes('frameAncestorsFor'))
  t.equal(warnings.length, 1)
  t.same(Object.keys(warnings[0]).filter((k) => k === 'err' || k === 'stack'), [], 'no stack, no error text')
})

t.test('frameAncestorsFor must be a function', async (t) => {
  const err = await caught(() =>
    Fastify().register(headersPlugin, { contentSecurityPolicy: { frameAncestorsFor: ['https://a.example'] } } as never).ready()
  )
  t.same(err.problems, ['headers.contentSecurityPolicy.frameAncestorsFor: must be function (got array)'])
})

t.test('frameAncestorsFor can make up the whole policy, and a CSP the handler set is kept', async (t) => {
  const app = makeApp(t)
  await app.register(headersPlugin, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'self'"] },
      apiDirectives: { frameAncestors: ["'none'"] },
      frameAncestorsFor: () => ['https://a.example'],
    },
  })
  app.get('/api', async () => ({ ok: true }))
  app.get('/own', async (_req, reply) => reply.header('content-security-policy', "default-src 'none'").send({ ok: true }))
  t.equal((await app.inject('/api')).headers['content-security-policy'], 'frame-ancestors https://a.example')
  t.equal((await app.inject('/own')).headers['content-security-policy'], "default-src 'none'")
})
