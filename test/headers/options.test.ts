import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { type HeadersOptions, REFERRER_POLICIES, securityPlugin } from '../../index.js'
import { API_DEFAULTS, caught, HTML_DEFAULTS, HTML_PERMISSIONS, headersOf, makeApp } from '../helpers.js'

async function serve (t: Test, headers: HeadersOptions) {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false, headers })
  app.get('/api', async () => ({ ok: 1 }))
  // reply.cspNonce throws where the policy has no nonce, so only nonced pages read it.
  const nonced = typeof headers.contentSecurityPolicy === 'object' && headers.contentSecurityPolicy.nonce !== undefined
  app.get('/page', async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(nonced ? `<p nonce="${reply.cspNonce}">x</p>` : '<p>x</p>')
  )
  return app
}

// Browsers ignore upgrade-insecure-requests in Report-Only policies, so it is left out there.
const REPORT_ONLY_DEFAULT = HTML_DEFAULTS['content-security-policy'].replace('; upgrade-insecure-requests', '')

async function problemsOf (headers: unknown): Promise<string[] | undefined> {
  const err = await caught(() =>
    Fastify()
      .register(securityPlugin, { rateLimit: false, headers: headers as HeadersOptions })
      .ready()
  )
  return err.problems
}

t.test('every header can be turned off', async (t) => {
  const app = await serve(t, {
    cacheControl: false,
    contentSecurityPolicy: false,
    hsts: false,
    contentTypeOptions: false,
    frameOptions: false,
    referrerPolicy: false,
    permissionsPolicy: false,
    crossOriginOpenerPolicy: false,
    crossOriginResourcePolicy: false,
    permittedCrossDomainPolicies: false,
    dnsPrefetchControl: false,
    removeHeaders: [],
  })
  t.same(headersOf(await app.inject('/api')), { 'content-type': 'application/json; charset=utf-8' })
  t.same(headersOf(await app.inject('/page')), { 'content-type': 'text/html; charset=utf-8' })
})

t.test('every header value can be changed', async (t) => {
  const app = await serve(t, {
    cacheControl: 'private, no-cache',
    frameOptions: 'SAMEORIGIN',
    referrerPolicy: ['no-referrer', 'strict-origin-when-cross-origin'],
    crossOriginOpenerPolicy: 'same-origin-allow-popups',
    crossOriginResourcePolicy: 'cross-origin',
    crossOriginEmbedderPolicy: 'require-corp',
    permittedCrossDomainPolicies: 'master-only',
    dnsPrefetchControl: 'on',
    xssProtection: true,
    permissionsPolicy: {
      geolocation: ['self', 'https://maps.example.com'],
      fullscreen: ['*'],
      camera: ['src'],
    },
  })
  const changed = {
    'cache-control': 'private, no-cache',
    'x-frame-options': 'SAMEORIGIN',
    'referrer-policy': 'no-referrer, strict-origin-when-cross-origin',
    'cross-origin-opener-policy': 'same-origin-allow-popups',
    'cross-origin-resource-policy': 'cross-origin',
    'cross-origin-embedder-policy': 'require-corp',
    'x-permitted-cross-domain-policies': 'master-only',
    'x-dns-prefetch-control': 'on',
    'x-xss-protection': '0',
  }
  t.same(headersOf(await app.inject('/api')), { ...API_DEFAULTS, ...changed })
  t.same(headersOf(await app.inject('/page')), {
    ...HTML_DEFAULTS,
    ...changed,
    'permissions-policy':
      HTML_PERMISSIONS.replace('camera=()', 'camera=(src)').replace(
        'geolocation=()',
        'geolocation=(self "https://maps.example.com")'
      ) + ', fullscreen=*',
  })
})

t.test('every Referrer-Policy value in the spec is accepted', async (t) => {
  for (const policy of REFERRER_POLICIES) {
    const app = await serve(t, { referrerPolicy: policy })
    t.equal((await app.inject('/api')).headers['referrer-policy'], policy)
    t.equal(
      (await app.inject('/page')).headers['referrer-policy'],
      policy,
      'an explicit policy applies to HTML too'
    )
  }
  t.same(await problemsOf({ referrerPolicy: 'sometimes' }), [
    "headers.referrerPolicy: must be one of false, 'no-referrer', 'no-referrer-when-downgrade', 'same-origin', 'origin', 'strict-origin', 'origin-when-cross-origin', 'strict-origin-when-cross-origin', 'unsafe-url', a list (got string)",
  ])
  t.same(await problemsOf({ referrerPolicy: ['origin', 'nope'] }), [
    "headers.referrerPolicy[1]: must be one of 'no-referrer', 'no-referrer-when-downgrade', 'same-origin', 'origin', 'strict-origin', 'origin-when-cross-origin', 'strict-origin-when-cross-origin', 'unsafe-url' (got string)",
  ])
  t.same(await problemsOf({ referrerPolicy: [] }), [
    'headers.referrerPolicy: must not have fewer than 1 items',
  ])
})

t.test('profile forces the HTML or API set', async (t) => {
  const html = await serve(t, { profile: 'html' })
  t.same(headersOf(await html.inject('/api')), {
    ...HTML_DEFAULTS,
    'content-type': 'application/json; charset=utf-8',
  })
  const api = await serve(t, { profile: 'api' })
  t.same(headersOf(await api.inject('/page')), {
    ...API_DEFAULTS,
    'content-type': 'text/html; charset=utf-8',
  })
})

t.test('removeHeaders takes a custom list', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false, headers: { removeHeaders: ['X-AspNet-Version'] } })
  app.get('/', async (_req, reply) =>
    reply.header('x-aspnet-version', '4.0').header('x-powered-by', 'me').send({})
  )
  t.same(headersOf(await app.inject('/')), { ...API_DEFAULTS, 'x-powered-by': 'me' })
  t.same(await problemsOf({ removeHeaders: ['bad header'] }), [
    'headers.removeHeaders[0]: must be a header name (got string)',
  ])
})

t.test('CSP directives, nonce and apiDirectives', async (t) => {
  const app = await serve(t, {
    contentSecurityPolicy: {
      directives: { scriptSrc: ["'strict-dynamic'"], imgSrc: ["'self'", 'data:'] },
      apiDirectives: { sandbox: [] },
      nonce: ['scriptSrc'],
    },
  })
  t.equal(
    (await app.inject('/api')).headers['content-security-policy'],
    "default-src 'none'; frame-ancestors 'none'; sandbox"
  )
  const first = await app.inject('/page')
  const second = await app.inject('/page')
  const nonce = /nonce="([^"]+)"/.exec(first.body)?.[1] as string
  t.match(nonce, /^[A-Za-z0-9+/]{22}==$/, '128-bit base64 nonce')
  t.equal(
    first.headers['content-security-policy'],
    `default-src 'self'; base-uri 'self'; form-action 'self'; object-src 'none'; frame-ancestors 'none'; upgrade-insecure-requests; script-src 'strict-dynamic' 'nonce-${nonce}'; img-src 'self' data:`
  )
  t.not(/nonce="([^"]+)"/.exec(second.body)?.[1], nonce, 'a fresh nonce per response')
  t.match(second.headers['content-security-policy'], /'nonce-[^']+'/)
})

t.test('useDefaults: false uses only the given directives', async (t) => {
  const app = await serve(t, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'self'"] },
      apiDirectives: { defaultSrc: ["'none'"] },
    },
  })
  t.equal((await app.inject('/page')).headers['content-security-policy'], "default-src 'self'")
  t.equal((await app.inject('/api')).headers['content-security-policy'], "default-src 'none'")
  t.same(await problemsOf({ contentSecurityPolicy: { useDefaults: false } }), [
    'headers.contentSecurityPolicy.apiDirectives: must set a directive when useDefaults is false',
    'headers.contentSecurityPolicy.directives: must set a directive when useDefaults is false',
  ])
})

t.test('reportOnly: true sends the document policy as Report-Only instead', async (t) => {
  const app = await serve(t, { contentSecurityPolicy: { reportOnly: true, nonce: true } })
  const res = await app.inject('/page')
  const nonce = /nonce="([^"]+)"/.exec(res.body)?.[1]
  const { 'content-security-policy-report-only': reportOnly, ...rest } = headersOf(res)
  t.same(rest, (({ 'content-security-policy': _, ...others }) => others)(HTML_DEFAULTS))
  t.equal(
    reportOnly,
    `${REPORT_ONLY_DEFAULT}; script-src 'self' 'nonce-${nonce}'; style-src 'self' 'nonce-${nonce}'`
  )
  t.equal(
    (await app.inject('/api')).headers['content-security-policy'],
    API_DEFAULTS['content-security-policy']
  )
})

t.test('reportOnly as an object stages a second policy alongside, with reporting endpoints', async (t) => {
  const app = await serve(t, {
    contentSecurityPolicy: {
      reportTo: { url: 'https://reports.example.com/csp' },
      reportOnly: { directives: { scriptSrc: ["'self'"], requireTrustedTypesFor: ["'script'"] } },
    },
  })
  t.same(headersOf(await app.inject('/page')), {
    ...HTML_DEFAULTS,
    'reporting-endpoints': 'csp-endpoint="https://reports.example.com/csp"',
    'content-security-policy': `${HTML_DEFAULTS['content-security-policy']}; report-to csp-endpoint; report-uri https://reports.example.com/csp`,
    'content-security-policy-report-only': `${REPORT_ONLY_DEFAULT}; script-src 'self'; require-trusted-types-for 'script'; report-to csp-endpoint; report-uri https://reports.example.com/csp`,
  })
  const noDefaults = await serve(t, {
    contentSecurityPolicy: {
      reportTo: { group: 'main', url: '/csp' },
      reportOnly: { useDefaults: false, directives: { defaultSrc: ["'self'"] } },
    },
  })
  const res = await noDefaults.inject('/page')
  t.equal(
    res.headers['content-security-policy-report-only'],
    "default-src 'self'; report-to main; report-uri /csp"
  )
  t.equal(res.headers['reporting-endpoints'], 'main="/csp"')
})

t.test('report URLs and groups are checked', async (t) => {
  t.same(await problemsOf({ contentSecurityPolicy: { reportTo: { url: 'http://reports.example.com/x' } } }), [
    'headers.contentSecurityPolicy.reportTo.url: must be an https URL or a path starting with "/"',
  ])
  t.same(await problemsOf({ contentSecurityPolicy: { reportTo: { url: 'https://x.example/a"b' } } }), [
    'headers.contentSecurityPolicy.reportTo.url: must not contain whitespace, quotes, ";", "," or "\\"',
  ])
  t.same(await problemsOf({ contentSecurityPolicy: { reportTo: { url: '//evil.example/x' } } }), [
    'headers.contentSecurityPolicy.reportTo.url: must be an https URL or a path starting with "/"',
  ])
  t.same(await problemsOf({ contentSecurityPolicy: { reportTo: { url: 'not a url' } } }), [
    'headers.contentSecurityPolicy.reportTo.url: must not contain whitespace, quotes, ";", "," or "\\"',
  ])
  t.same(await problemsOf({ contentSecurityPolicy: { reportTo: { url: 'mailto:x' } } }), [
    'headers.contentSecurityPolicy.reportTo.url: must be an https URL or a path starting with "/"',
  ])
  t.same(await problemsOf({ contentSecurityPolicy: { reportTo: { group: '1 bad', url: '/x' } } }), [
    'headers.contentSecurityPolicy.reportTo.group: must be a token of letters, digits, "-" or "_" (got string)',
  ])
  t.same(await problemsOf({ contentSecurityPolicy: { reportTo: {} } }), [
    'headers.contentSecurityPolicy.reportTo.url: is required',
  ])
  const local = makeApp(t)
  await local.register(securityPlugin, {
    rateLimit: false,
    headers: { contentSecurityPolicy: { reportTo: { url: 'http://localhost:8080/r' } } },
  })
  await local.ready()
  t.pass('http://localhost is allowed for development')
})

t.test("xssProtection: '0' is the same as true", async (t) => {
  const app = await serve(t, { xssProtection: '0' })
  t.equal((await app.inject('/api')).headers['x-xss-protection'], '0')
})

t.test('obsolete and harmful settings are refused with the reason', async (t) => {
  t.same(await problemsOf({ frameOptions: 'ALLOW-FROM https://x.example' }), [
    'headers.frameOptions: ALLOW-FROM is obsolete and ignored by current browsers; use contentSecurityPolicy.directives.frameAncestors',
  ])
  t.same(await problemsOf({ xssProtection: '1; mode=block' }), [
    'headers.xssProtection: X-XSS-Protection: 1 enabled an auditor that leaked data and is gone from browsers; only 0 is safe (set true to send 0, false to omit)',
  ])
  t.same(await problemsOf({ featurePolicy: { camera: [] } }), [
    'headers.featurePolicy: Feature-Policy is obsolete; use permissionsPolicy',
  ])
  t.same(await problemsOf({ frameOptions: 'ALLOWALL' }), [
    "headers.frameOptions: must be one of false, 'DENY', 'SAMEORIGIN' (got string)",
  ])
})

t.test('unsafe script policy is refused unless allowUnsafe', async (t) => {
  t.same(
    await problemsOf({ contentSecurityPolicy: { directives: { scriptSrc: ["'self'", "'unsafe-inline'"] } } }),
    [
      "headers.contentSecurityPolicy.directives.scriptSrc[1]: 'unsafe-inline' in a script policy allows XSS; set contentSecurityPolicy.allowUnsafe to opt in",
    ]
  )
  const app = await serve(t, {
    contentSecurityPolicy: { allowUnsafe: true, directives: { scriptSrc: ["'self'", "'unsafe-inline'"] } },
  })
  t.match(
    (await app.inject('/page')).headers['content-security-policy'],
    /script-src 'self' 'unsafe-inline'$/
  )
})

t.test('unknown directives, features and options are refused; every problem listed', async (t) => {
  const problems = await problemsOf({
    contentSecurityPolicy: {
      directives: { scriptSource: ["'self'"], blockAllMixedContent: true },
      nonce: 'yes',
    },
    permissionsPolicy: { camra: [], geolocation: ['self', 'maps.example.com'] },
    cacheControl: 'no-store\r\nx-injected: 1',
    profile: 'xml',
    frameOptions: 1,
  })
  t.same(problems, [
    "headers.profile: must be one of 'auto', 'api', 'html' (got string)",
    'headers.cacheControl: must be false or a printable ASCII header value (got string)',
    'headers.contentSecurityPolicy.directives.scriptSource: is not a known option',
    'headers.contentSecurityPolicy.directives.blockAllMixedContent: is not a known option',
    'headers.contentSecurityPolicy.nonce: must be boolean or a list (got string)',
    "headers.frameOptions: must be one of false, 'DENY', 'SAMEORIGIN' (got number)",
    'headers.permissionsPolicy.camra: is not a known option',
  ])
  t.same(
    await problemsOf({
      permissionsPolicy: { geolocation: ['self', 'maps.example.com', 'https://a.example/path'] },
    }),
    [
      "headers.permissionsPolicy.geolocation[1]: must be 'self', 'src', an origin like https://example.com, or ['*'] alone",
      "headers.permissionsPolicy.geolocation[2]: must be 'self', 'src', an origin like https://example.com, or ['*'] alone",
    ]
  )
  t.same(await problemsOf({ contentSecurityPolicy: { nonce: [] } }), [
    'headers.contentSecurityPolicy.nonce: must not have fewer than 1 items',
  ])
  t.same(await problemsOf('strict'), ['headers: must be false or an object (got string)'])
})

t.test('option values are never echoed in errors', async (t) => {
  const err = await caught(() =>
    Fastify()
      .register(securityPlugin, {
        rateLimit: false,
        headers: { cacheControl: 'SECRET\n', hsts: { maxAge: 'SECRET2' as never } },
      })
      .ready()
  )
  t.notMatch(err.message, /SECRET/)
  t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
  t.match(
    err.message,
    /^Invalid fastify-rampart options:\nheaders\.cacheControl: .*\nheaders\.hsts\.maxAge: must be integer \(got string\)$/
  )
})

t.test("the caller's options object is never mutated", async (t) => {
  const options = {
    headers: {
      hsts: { maxAge: 600 },
      contentSecurityPolicy: { directives: { imgSrc: ["'self'"] }, nonce: true },
      permissionsPolicy: { camera: ['self'] },
    },
  }
  const snapshot = JSON.parse(JSON.stringify(options))
  const app = makeApp(t)
  await app.register(securityPlugin, options as never)
  app.get('/', { config: { security: { headers: { hsts: { force: true } } } } }, async () => 1)
  await app.inject('/')
  t.same(options, snapshot)
  t.equal(Object.isFrozen(options), false)
})

t.test("Fastify's own register keys are ignored", async (t) => {
  const app = makeApp(t)
  await app.register(async (scope) => {
    const { headersPlugin } = await import('../../index.js')
    await scope.register(headersPlugin, { logLevel: 'warn', prefix: '/x' } as HeadersOptions)
    scope.get('/', async () => ({}))
  })
  t.same(headersOf(await app.inject('/')), {
    ...API_DEFAULTS,
    'content-type': 'application/json; charset=utf-8',
  })
})

t.test('HTML over https gets HSTS; reportOnly {} stages the default document policy', async (t) => {
  const app = makeApp(t, { trustProxy: ['127.0.0.1'] })
  await app.register(securityPlugin, {
    rateLimit: false,
    headers: {
      contentSecurityPolicy: { reportOnly: {} },
      permissionsPolicy: { geolocation: ['http://maps.example.com'] },
    },
  })
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send('<p>'))
  const res = await app.inject({ url: '/', headers: { 'x-forwarded-proto': 'https' } })
  t.same(headersOf(res), {
    ...HTML_DEFAULTS,
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'content-security-policy-report-only': REPORT_ONLY_DEFAULT,
    'permissions-policy': HTML_PERMISSIONS.replace(
      'geolocation=()',
      'geolocation=("http://maps.example.com")'
    ),
  })
})

t.test('resolveHeaderSet reports a non-object input', async (t) => {
  const { resolveHeaderSet } = await import('../../plugins/headers/resolve.js')
  const problems: string[] = []
  t.equal(resolveHeaderSet('x', 'headers', problems), undefined)
  t.same(problems, ['headers: must be an object (got string)'])
})

t.test('reportOnly directives stage the enforced policy plus their changes', async (t) => {
  const app = await serve(t, {
    contentSecurityPolicy: {
      directives: { imgSrc: ["'self'", 'https://img.example.com'], formAction: false },
      reportOnly: { directives: { scriptSrc: ["'self'"], imgSrc: ["'self'"] } },
    },
  })
  const res = await app.inject('/page')
  t.equal(
    res.headers['content-security-policy'],
    "default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'; upgrade-insecure-requests; img-src 'self' https://img.example.com"
  )
  t.equal(
    res.headers['content-security-policy-report-only'],
    "default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'; img-src 'self'; script-src 'self'",
    'the enforced policy (its own img-src and dropped form-action too), these changes over it, no upgrade-insecure-requests'
  )
  t.same(await problemsOf({ contentSecurityPolicy: { reportOnly: { directives: { upgradeInsecureRequests: true } } } }), [
    'headers.contentSecurityPolicy.reportOnly.directives.upgradeInsecureRequests: browsers ignore it in a Report-Only policy; set it in directives',
  ])
})
