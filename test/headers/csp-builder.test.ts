import t from 'tap'
import {
  buildCsp,
  DEFAULT_API_DIRECTIVES,
  DEFAULT_HTML_DIRECTIVES,
  directiveName,
  NONCE_SLOT,
  validFrameAncestor,
} from '../../plugins/headers/csp.js'

const plain = { allowUnsafe: false, nonce: [] as const }

function build (directives: Record<string, unknown>, options: Partial<Parameters<typeof buildCsp>[2]> = {}) {
  const problems: string[] = []
  const value = buildCsp({}, directives, { ...plain, ...options }, 'csp', problems)
  return { value, problems }
}

t.test('camelCase keys render to wire names', async (t) => {
  t.equal(directiveName('scriptSrcElem'), 'script-src-elem')
  t.equal(directiveName('upgradeInsecureRequests'), 'upgrade-insecure-requests')
  t.equal(directiveName('defaultSrc'), 'default-src')
})

t.test('defaults render in a fixed order', async (t) => {
  const problems: string[] = []
  t.equal(
    buildCsp(DEFAULT_HTML_DIRECTIVES, {}, plain, 'csp', problems),
    "default-src 'self'; base-uri 'self'; form-action 'self'; object-src 'none'; frame-ancestors 'none'; upgrade-insecure-requests"
  )
  t.equal(
    buildCsp(DEFAULT_API_DIRECTIVES, {}, plain, 'csp', problems),
    "default-src 'none'; frame-ancestors 'none'"
  )
  t.same(problems, [])
})

t.test('user directives merge over defaults; false removes one', async (t) => {
  const problems: string[] = []
  const value = buildCsp(
    DEFAULT_HTML_DIRECTIVES,
    {
      defaultSrc: ["'none'"],
      imgSrc: ["'self'", 'data:', 'https://cdn.example.com'],
      upgradeInsecureRequests: false,
      formAction: false,
    },
    plain,
    'csp',
    problems
  )
  t.equal(
    value,
    "default-src 'none'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'; img-src 'self' data: https://cdn.example.com"
  )
  t.same(problems, [])
})

t.test('valid sources of every kind pass', async (t) => {
  const { value, problems } = build({
    scriptSrc: [
      "'self'",
      "'strict-dynamic'",
      "'report-sample'",
      "'wasm-unsafe-eval'",
      "'unsafe-hashes'",
      `'sha256-${'A'.repeat(43)}='`,
      `'sha384-${'b'.repeat(64)}'`,
      `'sha512-${'c'.repeat(86)}=='`,
      '*.example.com',
      'https://cdn.example.com:8443/js/',
      'wss://socket.example.com:*',
    ],
    connectSrc: ['https:', '*', 'blob:'],
    frameAncestors: ["'self'", 'https://partner.example'],
    sandbox: ['allow-scripts', 'allow-forms'],
    requireTrustedTypesFor: ["'script'"],
    trustedTypes: ['default', 'dompurify', "'allow-duplicates'"],
  })
  t.same(problems, [])
  t.match(value, /^script-src 'self' 'strict-dynamic'/)
  t.match(
    value,
    /; sandbox allow-scripts allow-forms; require-trusted-types-for 'script'; trusted-types default dompurify 'allow-duplicates'$/
  )
})

t.test('an empty sandbox list sandboxes fully', async (t) => {
  const { value, problems } = build({ sandbox: [] })
  t.equal(value, 'sandbox')
  t.same(problems, [])
})

t.test('injection characters are refused', async (t) => {
  const { problems } = build({ scriptSrc: ["'self'; script-src *", 'a.com,b.com', 'x.com\ny.com'] })
  t.same(problems, [
    'csp.scriptSrc[0]: must not contain ";", "," or a line break',
    'csp.scriptSrc[1]: must not contain ";", "," or a line break',
    'csp.scriptSrc[2]: must not contain ";", "," or a line break',
  ])
})

t.test('unquoted keywords are refused', async (t) => {
  const { problems } = build({ defaultSrc: ['self'], objectSrc: ['NONE'], scriptSrc: ['strict-dynamic'] })
  t.same(problems, [
    "csp.defaultSrc[0]: the keyword must be quoted ('self'); unquoted it names a host",
    "csp.objectSrc[0]: the keyword must be quoted ('none'); unquoted it names a host",
    "csp.scriptSrc[0]: the keyword must be quoted ('strict-dynamic'); unquoted it names a host",
  ])
})

t.test("'unsafe-inline' and 'unsafe-eval' in script policies need allowUnsafe", async (t) => {
  const directives = {
    scriptSrc: ["'self'", "'unsafe-inline'"],
    scriptSrcAttr: ["'unsafe-eval'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
  }
  const refused = build(directives)
  t.same(refused.problems, [
    "csp.scriptSrc[1]: 'unsafe-inline' in a script policy allows XSS; set contentSecurityPolicy.allowUnsafe to opt in",
    "csp.scriptSrcAttr[0]: 'unsafe-eval' in a script policy allows XSS; set contentSecurityPolicy.allowUnsafe to opt in",
  ])
  const allowed = build(directives, { allowUnsafe: true })
  t.same(allowed.problems, [])
  t.equal(
    allowed.value,
    "script-src 'self' 'unsafe-inline'; script-src-attr 'unsafe-eval'; style-src 'self' 'unsafe-inline'"
  )
})

t.test('default-src with unsafe keywords governs scripts when script-src is unset', async (t) => {
  t.same(build({ defaultSrc: ["'self'", "'unsafe-inline'"] }).problems, [
    "csp.defaultSrc: 'unsafe-inline' and 'unsafe-eval' apply to scripts while scriptSrc is unset; set allowUnsafe to opt in",
  ])
  t.same(build({ defaultSrc: ["'self'", "'unsafe-inline'"], scriptSrc: ["'self'"] }).problems, [])
  t.same(build({ defaultSrc: ["'unsafe-eval'"] }, { allowUnsafe: true }).problems, [])
})

t.test('fixed nonces, bad hashes and unknown quoted words are refused', async (t) => {
  const { problems } = build({
    scriptSrc: ["'nonce-abc123'", "'sha256-short'", "'sha1-AAAA'", "'unsafe-everything'"],
  })
  t.same(problems, [
    'csp.scriptSrc[0]: a fixed nonce defeats its purpose; set contentSecurityPolicy.nonce for per-request nonces',
    'csp.scriptSrc[1]: sha256 hash must be 44 base64 characters',
    "csp.scriptSrc[2]: unknown quoted source; expected a keyword or 'sha256-<base64>'",
    "csp.scriptSrc[3]: unknown quoted source; expected a keyword or 'sha256-<base64>'",
  ])
})

t.test('malformed hosts, empty lists and none-with-others are refused', async (t) => {
  const { problems } = build({
    imgSrc: ['https://exa mple.com', 'ht!tp://x', 'https://*.*.example.com', ''],
    fontSrc: [],
    mediaSrc: ["'none'", "'self'"],
  })
  t.same(problems, [
    'csp.imgSrc[0]: must be a quoted keyword, a hash, a scheme (https:) or a host source',
    'csp.imgSrc[1]: must be a quoted keyword, a hash, a scheme (https:) or a host source',
    'csp.imgSrc[2]: must be a quoted keyword, a hash, a scheme (https:) or a host source',
    'csp.imgSrc[3]: must be a quoted keyword, a hash, a scheme (https:) or a host source',
    'csp.fontSrc: must not be empty (use ["\'none\'"])',
    "csp.mediaSrc: 'none' must be the only source",
  ])
})

t.test('frame-ancestors takes no script keywords or hashes', async (t) => {
  t.same(build({ frameAncestors: ["'unsafe-inline'", `'sha256-${'A'.repeat(43)}='`] }).problems, [
    "csp.frameAncestors[0]: frame-ancestors accepts only 'self', 'none', schemes and hosts",
    "csp.frameAncestors[1]: frame-ancestors accepts only 'self', 'none', schemes and hosts",
  ])
})

t.test('sandbox and trusted-types tokens are checked', async (t) => {
  t.same(build({ sandbox: ['allow-everything'], trustedTypes: ['bad name'] }).problems, [
    'csp.sandbox[0]: is not a sandbox keyword',
    "csp.trustedTypes[0]: must be a policy name, 'allow-duplicates' or 'none'",
  ])
})

t.test('nonce slots go to script-src and style-src, inheriting default-src without none', async (t) => {
  const problems: string[] = []
  const both = buildCsp(
    DEFAULT_API_DIRECTIVES,
    {},
    { allowUnsafe: false, nonce: ['scriptSrc', 'styleSrc'] },
    'csp',
    problems
  )
  t.equal(
    both,
    `default-src 'none'; frame-ancestors 'none'; script-src 'nonce-${NONCE_SLOT}'; style-src 'nonce-${NONCE_SLOT}'`
  )
  const own = buildCsp(
    {},
    { scriptSrc: ["'strict-dynamic'"] },
    { allowUnsafe: false, nonce: ['scriptSrc'] },
    'csp',
    problems
  )
  t.equal(own, `script-src 'strict-dynamic' 'nonce-${NONCE_SLOT}'`)
  const inherit = buildCsp(
    {},
    { defaultSrc: ["'self'"] },
    { allowUnsafe: false, nonce: ['styleSrc'] },
    'csp',
    problems
  )
  t.equal(inherit, `default-src 'self'; style-src 'self' 'nonce-${NONCE_SLOT}'`)
  const bare = buildCsp({}, {}, { allowUnsafe: false, nonce: ['scriptSrc'] }, 'csp', problems)
  t.equal(bare, `script-src 'nonce-${NONCE_SLOT}'`)
  t.same(problems, [])
})

t.test('report endpoints are appended as report-to and report-uri', async (t) => {
  const { value } = build({ defaultSrc: ["'self'"] }, { report: { group: 'csp', url: '/csp-report' } })
  t.equal(value, "default-src 'self'; report-to csp; report-uri /csp-report")
})

t.test('script policies refuse any-host and data:/blob: sources unless allowUnsafe', async (t) => {
  const open = ['*', 'data:', 'https:', 'HTTP:', 'blob:', 'https://*', '*:443']
  const refused = build({ scriptSrc: open, scriptSrcElem: ['https:'], scriptSrcAttr: ['https:'], imgSrc: open })
  t.same(refused.problems, [
    ...open.map((s, i) => `csp.scriptSrc[${i}]: ${s} in a script policy lets injected markup load any script; list the script hosts, or set contentSecurityPolicy.allowUnsafe to opt in`),
    'csp.scriptSrcElem[0]: https: in a script policy lets injected markup load any script; list the script hosts, or set contentSecurityPolicy.allowUnsafe to opt in',
  ], 'script-src-attr governs inline handlers only; img-src may load from anywhere')
  t.same(build({ scriptSrc: ["'self'", 'https://cdn.example.com', '*.example.com', 'https://*.example.com'] }).problems, [])
  t.same(build({ scriptSrc: open }, { allowUnsafe: true }).problems, [])
})

t.test('default-src with an any-host source governs scripts when script-src is unset', async (t) => {
  t.same(build({ defaultSrc: ["'self'", 'https:'] }).problems, [
    'csp.defaultSrc: applies to scripts while scriptSrc is unset: https: in a script policy lets injected markup load any script; list the script hosts, or set contentSecurityPolicy.allowUnsafe to opt in',
  ])
  t.same(build({ defaultSrc: ['https:', 'data:'], scriptSrc: ["'self'"] }).problems, [])
  t.same(build({ defaultSrc: ['*'] }, { allowUnsafe: true }).problems, [])
})

t.test("a nonce beside 'unsafe-inline' in style-src is refused, pointing at nonce: ['scriptSrc']", async (t) => {
  const hint = "'unsafe-inline' is ignored by browsers in a directive that carries a nonce; for pages with inline styles, set nonce: ['scriptSrc']"
  t.same(build({ styleSrc: ["'self'", "'unsafe-inline'"] }, { nonce: ['scriptSrc', 'styleSrc'] }).problems, [`csp.styleSrc: ${hint}`])
  t.same(build({ defaultSrc: ["'self'", "'unsafe-inline'"], scriptSrc: ["'self'"] }, { nonce: ['styleSrc'] }).problems, [`csp.defaultSrc: ${hint}`], 'style-src built from default-src')
  const scriptsOnly = build({ styleSrc: ["'self'", "'unsafe-inline'"] }, { nonce: ['scriptSrc'] })
  t.same(scriptsOnly.problems, [])
  t.equal(scriptsOnly.value, `style-src 'self' 'unsafe-inline'; script-src 'nonce-${NONCE_SLOT}'`)
  // The strict-CSP fallback for CSP1 browsers: 'unsafe-inline' beside a nonce, opted into.
  t.same(build({ scriptSrc: ["'strict-dynamic'", "'unsafe-inline'", 'https:'] }, { nonce: ['scriptSrc'], allowUnsafe: true }).problems, [])
})

t.test('a Report-Only policy leaves out upgrade-insecure-requests', async (t) => {
  const problems: string[] = []
  t.equal(buildCsp(DEFAULT_HTML_DIRECTIVES, {}, { ...plain, reportOnly: true }, 'csp', problems), "default-src 'self'; base-uri 'self'; form-action 'self'; object-src 'none'; frame-ancestors 'none'")
  t.same(problems, [])
})

t.test('validFrameAncestor checks one source as configured ones are', async (t) => {
  t.same(
    ["'self'", "'none'", 'https://partner.example', '*.example.com', 'https:', "'unsafe-inline'", 'a; script-src *', 42, '', 'x'.repeat(254)].map(validFrameAncestor),
    [true, true, true, true, true, false, false, false, false, false]
  )
})
