import t from 'tap'
import { parseEntry } from '../../plugins/trusted-host/entries.js'
import { compileMatcher, listsExactly, matchHost } from '../../plugins/trusted-host/matcher.js'
import { resolveMatcher } from '../../plugins/trusted-host/resolve.js'

function entry (raw: string) {
  const problems: string[] = []
  return { entry: parseEntry(raw, 'e', problems), problems }
}

t.test('entries are normalised', async (t) => {
  t.same(entry('*').entry, { kind: 'any' })
  t.same(entry('API.Example.COM.').entry, { kind: 'exact', hostname: 'api.example.com', port: undefined })
  t.same(entry('localhost:3000').entry, { kind: 'exact', hostname: 'localhost', port: 3000 })
  t.same(entry('bücher.de').entry, { kind: 'exact', hostname: 'xn--bcher-kva.de', port: undefined }, 'IDN to punycode')
  t.same(entry('*.bücher.de:8443').entry, { kind: 'wildcard', suffix: '.xn--bcher-kva.de', port: 8443 })
  t.same(entry('[0::1]').entry, { kind: 'exact', hostname: '[::1]', port: undefined })
  t.same(entry('*.example.com').entry, { kind: 'wildcard', suffix: '.example.com', port: undefined })
  t.same(entry('*.localhost').entry, { kind: 'wildcard', suffix: '.localhost', port: undefined }, 'RFC 6761')
  t.same(entry('*.example.co.uk').entry, { kind: 'wildcard', suffix: '.example.co.uk', port: undefined })
})

t.test('bad entries are refused with a reason each', async (t) => {
  const cases: [string, string][] = [
    ['', 'e: must not be empty'],
    ['https://example.com', 'e: must be a host, without a scheme or a path'],
    ['example.com/admin', 'e: must be a host, without a scheme or a path'],
    ['ex*ample.com', 'e: a wildcard must be a whole leading label ("*.example.com")'],
    ['*example.com', 'e: a wildcard must be a whole leading label ("*.example.com")'],
    ['a.*.example.com', 'e: a wildcard must be a whole leading label ("*.example.com")'],
    ['*.*.example.com', 'e: a wildcard must be a whole leading label ("*.example.com")'],
    ['*.com', 'e: a wildcard directly over a public suffix would trust every site under it'],
    ['*.co.uk', 'e: a wildcard directly over a public suffix would trust every site under it'],
    ['*.github.io', 'e: a wildcard directly over a public suffix would trust every site under it'],
    ['*.internal', 'e: a wildcard directly over a public suffix would trust every site under it'],
    ['*.127.0.0.1', 'e: a wildcard cannot cover an IP address'],
    ['user@example.com', 'e: must be a host name, an IPv4 address or a bracketed IPv6 address, with an optional port'],
    ['example.com:99999', 'e: must be a host name, an IPv4 address or a bracketed IPv6 address, with an optional port'],
    ['ü.xn--zz', 'e: must be a host name, an IPv4 address or a bracketed IPv6 address, with an optional port'],
    [' example.com', 'e: must be a host name, an IPv4 address or a bracketed IPv6 address, with an optional port'],
    ['exa\u00a0mple.com', 'e: must be a host name, an IPv4 address or a bracketed IPv6 address, with an optional port'],
  ]
  for (const [raw, problem] of cases) {
    const { entry: e, problems } = entry(raw)
    t.equal(e, undefined, raw)
    t.same(problems, [problem], raw)
  }
})

t.test('the matcher: exact, ports, wildcard depth, apex', async (t) => {
  const problems: string[] = []
  const m = resolveMatcher(
    ['example.com', '*.example.com', 'localhost:3000', 'localhost:3001', 'api.test:8443', '*.dev.test:8080', '[::1]'],
    'h',
    problems
  )
  t.same(problems, [])
  t.ok(matchHost(m, 'example.com', 80))
  t.ok(matchHost(m, 'example.com', 12345), 'no port in the entry: any port')
  t.ok(matchHost(m, 'a.example.com', 443))
  t.ok(matchHost(m, 'a.b.c.example.com', 443), 'any depth')
  t.notOk(matchHost(m, 'badexample.com', 80), 'suffix must follow a dot')
  t.notOk(matchHost(m, 'example.com.evil.com', 80))
  t.ok(matchHost(m, 'localhost', 3000))
  t.ok(matchHost(m, 'localhost', 3001))
  t.notOk(matchHost(m, 'localhost', 3002))
  t.ok(matchHost(m, 'x.dev.test', 8080))
  t.notOk(matchHost(m, 'x.dev.test', 80))
  t.notOk(matchHost(m, 'dev.test', 8080), 'a wildcard never covers its apex')
  t.ok(matchHost(m, '[::1]', 80))
  t.ok(listsExactly(m, 'example.com'))
  t.notOk(listsExactly(m, 'www.example.com'), 'a wildcard is not an exact listing')
  t.ok(matchHost(compileMatcher([{ kind: 'any' }]), 'anything.example', 1))
})

t.test('resolveMatcher lists every bad entry', async (t) => {
  const problems: string[] = []
  resolveMatcher(['ok.example', '*.com', 'http://x'], 'trustedHost.allowedHosts', problems)
  t.same(problems, [
    'trustedHost.allowedHosts[1]: a wildcard directly over a public suffix would trust every site under it',
    'trustedHost.allowedHosts[2]: must be a host, without a scheme or a path',
  ])
})
