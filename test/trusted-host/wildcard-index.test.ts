import t from 'tap'
import { compileAddresses } from '../../lib/client-ip.js'
import { compileOrigins, matchOrigin, type ParsedOrigin, parseOrigin } from '../../plugins/cors/origins.js'
import { type HostEntry, parseEntry } from '../../plugins/trusted-host/entries.js'
import { compileMatcher, matchHost } from '../../plugins/trusted-host/matcher.js'

// Issue 10, item 8: wildcard hosts, wildcard origins and CIDRs were scanned
// one by one on every request. They are indexed now (by suffix, by prefix
// length), so the cost follows the request's labels, not the list. These
// tests pin the behaviour at 100k entries; the benchmark measures the cost.

const N = 100_000

t.test('100k wildcard hosts: right matches, ports, apexes and lookalikes', async (t) => {
  const problems: string[] = []
  const entries: HostEntry[] = []
  for (let i = 0; i < N; i++) {
    const raw = i % 2 === 0 ? `*.t${i}.example.com` : `*.t${i}.example.com:8443`
    entries.push(parseEntry(raw, `h[${i}]`, problems) as HostEntry)
  }
  entries.push(parseEntry('exact.example.net:444', 'x', problems) as HostEntry)
  t.same(problems, [])
  const m = compileMatcher(entries)
  // The shape that makes a request cost one lookup per label: suffixes are keys, not a list to scan.
  t.equal(m.wildcards.size, N)
  t.same(m.wildcards.get('.t1.example.com'), new Set([8443]))
  t.ok(matchHost(m, 'a.t0.example.com', 80))
  t.ok(matchHost(m, 'x.y.z.t99998.example.com', 443), 'any depth')
  t.ok(matchHost(m, 'a.t99999.example.com', 8443))
  t.notOk(matchHost(m, 'a.t99999.example.com', 443), 'a port-bound wildcard keeps its port')
  t.notOk(matchHost(m, 't0.example.com', 80), 'never the apex')
  t.notOk(matchHost(m, 'a.t100000.example.com', 80), 'not on the list')
  t.notOk(matchHost(m, 'at0.example.com', 80), 'the suffix starts at a dot')
  t.notOk(matchHost(m, 'a.t0.example.com.evil.com', 80))
  t.notOk(matchHost(m, 'example.com', 80))
  t.notOk(matchHost(m, '1.2.3.4', 80), 'IPs have dots too, never a wildcard match')
  t.notOk(matchHost(m, 'localhost', 80), 'no dot at all')
  t.ok(matchHost(m, 'exact.example.net', 444))
  t.notOk(matchHost(m, 'exact.example.net', 80))
  t.notOk(matchHost(compileMatcher([]), 'a.example.com', 80), 'an empty list matches nothing')
})

t.test('100k wildcard origins: right matches, schemes, ports and lookalikes', async (t) => {
  const problems: string[] = []
  const parsed: ParsedOrigin[] = []
  for (let i = 0; i < N; i++) {
    const raw = i % 2 === 0 ? `https://*.t${i}.example.com` : `http://*.t${i}.example.com:8080`
    parsed.push(parseOrigin(raw, `o[${i}]`, problems) as ParsedOrigin)
  }
  t.same(problems, [])
  const list = compileOrigins(parsed)
  t.equal(list.patterns.size, N)
  t.ok(list.patterns.has('http://.t1.example.com:8080'), 'patterns are keys, not a list to scan')
  t.ok(matchOrigin(list, 'https://a.t0.example.com'))
  t.ok(matchOrigin(list, 'https://x.y.t99998.example.com'), 'any depth')
  t.ok(matchOrigin(list, 'http://a.t99999.example.com:8080'))
  t.notOk(matchOrigin(list, 'https://a.t99999.example.com:8080'), 'the scheme is part of the pattern')
  t.notOk(matchOrigin(list, 'http://a.t99999.example.com'), 'so is the port')
  t.notOk(matchOrigin(list, 'https://t0.example.com'), 'never the apex')
  t.notOk(matchOrigin(list, 'https://a.t100000.example.com'))
  t.notOk(matchOrigin(list, 'https://a_b.t0.example.com'), 'what stands for * must be DNS labels')
  t.notOk(matchOrigin(list, 'https://a.t0.example.com.evil.com'))
  t.notOk(matchOrigin(list, 'https://a.t0.example.com/'))
  t.notOk(matchOrigin(list, 'no-scheme.t0.example.com'))
  t.notOk(matchOrigin(list, `https://${'a.'.repeat(200)}t0.example.com`), 'longer than any host')
})

t.test('100k CIDRs: right matches for v4, v6 and mapped clients', async (t) => {
  const problems: string[] = []
  const entries: string[] = []
  for (let i = 0; i < N / 2; i++) entries.push(`10.${(i >> 8) & 255}.${i & 255}.0/24`)
  for (let i = 0; i < N / 2; i++) entries.push(`2001:db8:${i.toString(16)}::/48`)
  entries.push('192.168.0.0/16', '172.16.5.4', '::ffff:198.51.100.0/120', '0.0.0.0/0')
  const match = compileAddresses(entries.slice(0, -1), 'a', problems)
  t.same(problems, [])
  t.ok(match('10.0.0.1'))
  t.ok(match('10.195.79.200'), 'the last v4 range (49999 = 195 * 256 + 79)')
  t.notOk(match('10.195.80.1'), 'one past the ranges')
  t.ok(match('2001:db8:c34f:ffff::1'), 'the last v6 range (49999 = 0xc34f)')
  t.notOk(match('2001:db8:c350::1'))
  t.ok(match('192.168.255.255'))
  t.ok(match('172.16.5.4'))
  t.notOk(match('172.16.5.5'))
  t.ok(match('198.51.100.9'), 'a mapped range matches IPv4 clients')
  t.ok(match('::ffff:10.0.0.1'), 'a mapped client matches its IPv4 range')
  t.notOk(match('11.0.0.1'))
  t.ok(compileAddresses(['0.0.0.0/0'], 'a', problems)('203.0.113.1'), '/0 matches every address of its family')
  t.notOk(compileAddresses(['0.0.0.0/0'], 'a', problems)('2001:db8::1'), 'but not the other family')
  t.ok(compileAddresses(['10.1.2.3/8'], 'a', problems)('10.200.0.1'), 'host bits in a range are ignored')
  t.ok(compileAddresses(['::ffff:0:0/95'], 'a', problems)('::fffe:1:2'), 'a range shorter than the mapped prefix stays IPv6')
})
