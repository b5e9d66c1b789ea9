import t from 'tap'
import { compileOrigins, matchOrigin, parseOrigin } from '../../plugins/cors/origins.js'

function list (...raw: string[]) {
  const problems: string[] = []
  const parsed = raw.map((r, i) => parseOrigin(r, `o[${i}]`, problems))
  t.same(problems, [], 'valid entries')
  return compileOrigins(parsed.filter((p) => p !== undefined))
}

t.test('entries are normalised: case, default port, IDN', async (t) => {
  const problems: string[] = []
  t.same(parseOrigin('HTTPS://App.Example.COM:443', 'o', problems), { kind: 'exact', origin: 'https://app.example.com' })
  t.same(parseOrigin('http://localhost:80', 'o', problems), { kind: 'exact', origin: 'http://localhost' })
  t.same(parseOrigin('http://localhost:5173', 'o', problems), { kind: 'exact', origin: 'http://localhost:5173' })
  t.same(parseOrigin('https://bücher.de', 'o', problems), { kind: 'exact', origin: 'https://xn--bcher-kva.de' })
  t.same(parseOrigin('http://[::1]:3000', 'o', problems), { kind: 'exact', origin: 'http://[::1]:3000' })
  t.same(parseOrigin('https://*.Example.com', 'o', problems), {
    kind: 'pattern',
    pattern: { prefix: 'https://', suffix: '.example.com' },
  })
  t.same(parseOrigin('https://*.example.com:443', 'o', problems), {
    kind: 'pattern',
    pattern: { prefix: 'https://', suffix: '.example.com' },
  })
  t.same(parseOrigin('http://*.example.com:8080', 'o', problems), {
    kind: 'pattern',
    pattern: { prefix: 'http://', suffix: '.example.com:8080' },
  })
  t.same(parseOrigin('*', 'o', problems), { kind: 'any' })
  t.same(problems, [])
})

t.test('bad entries are refused with a reason', async (t) => {
  const cases: [string, string][] = [
    ['null', 'o: "null" is set with allowNullOrigin, not listed (sandboxed frames and file: pages all send it)'],
    ['app.example.com', 'o: must be an origin such as https://app.example.com (scheme, host, optional port)'],
    ['//app.example.com', 'o: must be an origin such as https://app.example.com (scheme, host, optional port)'],
    ['https://app.example.com/', 'o: must be scheme://host[:port] with no path, query, trailing slash or userinfo'],
    ['https://app.example.com/api', 'o: must be scheme://host[:port] with no path, query, trailing slash or userinfo'],
    ['https://app.example.com?x=1', 'o: must be scheme://host[:port] with no path, query, trailing slash or userinfo'],
    ['https://app.example.com#x', 'o: must be scheme://host[:port] with no path, query, trailing slash or userinfo'],
    ['https://user@app.example.com', 'o: must be scheme://host[:port] with no path, query, trailing slash or userinfo'],
    ['https://user:pw@app.example.com', 'o: must be scheme://host[:port] with no path, query, trailing slash or userinfo'],
    ['https://exa mple.com', 'o: must be scheme://host[:port] with no path, query, trailing slash or userinfo'],
    ['https://app.example.com:99999', 'o: must be scheme://host[:port] with no path, query, trailing slash or userinfo'],
    ['web+app://', 'o: must be scheme://host[:port] with no path, query, trailing slash or userinfo'],
    ['https://', 'o: must be scheme://host[:port] with no path, query, trailing slash or userinfo'],
    ['https://ex*ample.com', 'o: a wildcard must be a whole leading label (https://*.example.com)'],
    ['https://*.*.example.com', 'o: a wildcard must be a whole leading label (https://*.example.com)'],
    ['https://*.com', 'o: a wildcard directly over a public suffix would trust every site under it'],
    ['https://*.co.uk', 'o: a wildcard directly over a public suffix would trust every site under it'],
    ['http://*.0.0.1', 'o: must be scheme://host[:port] with no path, query, trailing slash or userinfo'],
  ]
  for (const [raw, message] of cases) {
    const problems: string[] = []
    t.equal(parseOrigin(raw, 'o', problems), undefined, raw)
    t.same(problems, [message], raw)
  }
})

t.test('exact and pattern matches; lookalikes refused', async (t) => {
  const origins = list('https://app.example.com', 'http://localhost:5173', 'https://*.example.org', 'https://*.example.net:8443')
  t.ok(matchOrigin(origins, 'https://app.example.com'))
  t.ok(matchOrigin(origins, 'http://localhost:5173'))
  t.ok(matchOrigin(origins, 'https://a.example.org'))
  t.ok(matchOrigin(origins, 'https://a.b.c.example.org'), 'any depth')
  t.ok(matchOrigin(origins, 'https://a.example.net:8443'))
  for (const lookalike of [
    'https://app.example.com.evil.com',
    'https://evilapp.example.com',
    'http://app.example.com',
    'https://app.example.com:8443',
    'https://app.example.com/',
    'HTTPS://APP.EXAMPLE.COM',
    'https://APP.example.com',
    'null',
    'http://localhost:5174',
    'https://example.org',
    'https://evilexample.org',
    'http://a.example.org',
    'https://a.example.org:443',
    'https://a.example.net',
    'https://a.example.net:9443',
    'https://evil.com/.example.org',
    'https://evil.com?.example.org',
    'https://a..example.org',
    'https://-a.example.org',
    'https://user@a.example.org',
    '',
  ]) {
    t.notOk(matchOrigin(origins, lookalike), lookalike)
  }
})
