import t from 'tap'
import { compileAddresses, ipKey } from '../../lib/client-ip.js'
import { rateLimitHeaderNames } from '../../plugins/rate-limit/buckets.js'

t.test('ipKey: IPv4, mapped, IPv6 prefixes, garbage', async (t) => {
  t.equal(ipKey('203.0.113.5', 64), '203.0.113.5')
  t.equal(ipKey('::ffff:203.0.113.5', 64), '203.0.113.5')
  t.equal(ipKey('2001:db8:aaaa:bbbb:1:2:3:4', 64), '2001:db8:aaaa:bbbb::/64')
  t.equal(ipKey('2001:db8:aaaa:bbbb:1:2:3:4', 56), '2001:db8:aaaa:bb00::/56')
  t.equal(ipKey('2001:db8::1', 128), '2001:db8::1/128')
  t.equal(ipKey('not:an:ip', 64), 'unknown')
  t.equal(ipKey(undefined, 64), 'unknown')
  t.equal(ipKey('', 64), 'unknown')
})

t.test('ipKey remembers IPv6 keys per prefix, bounded, with the same answers', async (t) => {
  t.equal(ipKey('2001:db8:aaaa:bbbb:1:2:3:4', 64), '2001:db8:aaaa:bbbb::/64')
  t.equal(ipKey('2001:db8:aaaa:bbbb:1:2:3:4', 48), '2001:db8:aaaa::/48', 'another prefix is another key')
  for (let i = 1; i <= 5000; i++) {
    const key = ipKey(`2001:db8:${i.toString(16)}::1`, 64)
    if (key !== `2001:db8:${i.toString(16)}::/64`) t.fail(key)
  }
  t.equal(ipKey('2001:db8:aaaa:bbbb:1:2:3:4', 64), '2001:db8:aaaa:bbbb::/64', 'still right past the bound')
  t.equal(ipKey('not:an:ip', 64), 'unknown')
})

t.test('compileAddresses: IPs and CIDRs, v4, v6 and mapped', async (t) => {
  const problems: string[] = []
  const match = compileAddresses(['192.0.2.0/24', '2001:db8::/32', '198.51.100.7', '::ffff:203.0.113.0/120'], 'a', problems)
  t.same(problems, [])
  t.ok(match('192.0.2.99'))
  t.ok(match('::ffff:192.0.2.99'), 'a mapped client matches its IPv4 range')
  t.ok(match('2001:db8:1::1'))
  t.ok(match('198.51.100.7'))
  t.ok(match('203.0.113.200'), 'a mapped range matches IPv4 clients')
  t.notOk(match('192.0.3.1'))
  t.notOk(match('2001:db9::1'))
  t.notOk(match(undefined))
  t.notOk(match('garbage'))
})

t.test('the header names CORS must expose, per header family', async (t) => {
  const all = ['RateLimit', 'RateLimit-Policy', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After']
  t.same(rateLimitHeaderNames(undefined), all)
  t.same(rateLimitHeaderNames('both'), all)
  t.same(rateLimitHeaderNames('draft'), ['RateLimit', 'RateLimit-Policy', 'Retry-After'])
  t.same(rateLimitHeaderNames('legacy'), ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After'])
  t.same(rateLimitHeaderNames(false), ['Retry-After'])
})
