import t from 'tap'
import { parseSpiffeId } from '../../index.js'
import { checkSpiffeId, SpiffeId } from '../../plugins/mtls/spiffe-id.js'

t.test('a canonical ID parses into its trust domain and path', async (t) => {
  const id = parseSpiffeId('spiffe://example.org/ns/prod/sa/checkout')
  t.ok(id instanceof SpiffeId)
  t.equal(id.trustDomain, 'example.org')
  t.equal(id.path, '/ns/prod/sa/checkout')
  t.equal(id.toString(), 'spiffe://example.org/ns/prod/sa/checkout')
  t.equal(JSON.stringify(id), '{"trustDomain":"example.org","path":"/ns/prod/sa/checkout"}')
  t.ok(Object.isFrozen(id))
})

t.test('the root ID of a trust domain has an empty path', async (t) => {
  const id = parseSpiffeId('spiffe://example.org')
  t.same({ trustDomain: id.trustDomain, path: id.path, uri: String(id) }, { trustDomain: 'example.org', path: '', uri: 'spiffe://example.org' })
})

t.test('every allowed character is accepted', async (t) => {
  const id = parseSpiffeId('spiffe://a-b_c.0.9z/A-Z_a.z-0/9.x/...')
  t.equal(id.path, '/A-Z_a.z-0/9.x/...')
})

t.test('IDs compare by whole trust domain and path', async (t) => {
  const a = parseSpiffeId('spiffe://example.org/a')
  t.ok(a.equals(parseSpiffeId('spiffe://example.org/a')))
  t.notOk(a.equals(parseSpiffeId('spiffe://example.org/a/b')))
  t.notOk(a.equals(parseSpiffeId('spiffe://example.org.evil/a')))
  t.ok(a.memberOf('example.org'))
  t.notOk(a.memberOf('org'))
})

const invalid: [string, string][] = [
  ['', 'cannot be empty'],
  ['example.org/a', 'scheme is missing or invalid (must be lowercase spiffe://)'],
  ['SPIFFE://example.org/a', 'scheme is missing or invalid (must be lowercase spiffe://)'],
  ['Spiffe://example.org/a', 'scheme is missing or invalid (must be lowercase spiffe://)'],
  ['https://example.org/a', 'scheme is missing or invalid (must be lowercase spiffe://)'],
  ['spiffe:/example.org/a', 'scheme is missing or invalid (must be lowercase spiffe://)'],
  [' spiffe://example.org/a', 'scheme is missing or invalid (must be lowercase spiffe://)'],
  ['spiffe://', 'trust domain is missing'],
  ['spiffe:///a', 'trust domain is missing'],
  ['spiffe://Example.org/a', 'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores'],
  ['spiffe://example.org:8443/a', 'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores'],
  ['spiffe://user@example.org/a', 'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores'],
  ['spiffe://user:pw@example.org/a', 'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores'],
  ['spiffe://exa%6Dple.org/a', 'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores'],
  ['spiffe://example.org?x=1', 'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores'],
  ['spiffe://example.org#f', 'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores'],
  ['spiffe://exämple.org/a', 'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores'],
  ['spiffe://example.org/', 'path cannot have a trailing slash'],
  ['spiffe://example.org/a/', 'path cannot have a trailing slash'],
  ['spiffe://example.org//a', 'path cannot contain empty segments'],
  ['spiffe://example.org/a//b', 'path cannot contain empty segments'],
  ['spiffe://example.org/.', 'path cannot contain dot segments'],
  ['spiffe://example.org/a/./b', 'path cannot contain dot segments'],
  ['spiffe://example.org/a/..', 'path cannot contain dot segments'],
  ['spiffe://example.org/../b', 'path cannot contain dot segments'],
  ['spiffe://example.org/a%2Fb', 'path segment characters are limited to letters, numbers, dots, dashes, and underscores'],
  ['spiffe://example.org/a?x=1', 'path segment characters are limited to letters, numbers, dots, dashes, and underscores'],
  ['spiffe://example.org/a#frag', 'path segment characters are limited to letters, numbers, dots, dashes, and underscores'],
  ['spiffe://example.org/a b', 'path segment characters are limited to letters, numbers, dots, dashes, and underscores'],
  ['spiffe://example.org/a:b', 'path segment characters are limited to letters, numbers, dots, dashes, and underscores'],
  ['spiffe://example.org/ä', 'path segment characters are limited to letters, numbers, dots, dashes, and underscores'],
  ['spiffe://example.org\\a', 'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores'],
]

t.test('every non-canonical form is rejected, never normalised', async (t) => {
  for (const [input, reason] of invalid) {
    t.equal(checkSpiffeId(input), reason, input)
    t.throws(() => parseSpiffeId(input), { code: 'FST_RAMPART_INVALID_SPIFFE_ID', message: `Invalid SPIFFE ID: ${reason}` }, input)
  }
})

t.test('an ID of 2048 bytes is accepted and one byte more is rejected', async (t) => {
  const prefix = 'spiffe://example.org/'
  const longest = prefix + 'a'.repeat(2048 - prefix.length)
  t.equal(parseSpiffeId(longest).toString().length, 2048)
  t.throws(() => parseSpiffeId(longest + 'a'), { message: 'Invalid SPIFFE ID: is longer than 2048 bytes' })
})

t.test('a value that is not a string is rejected', async (t) => {
  t.throws(() => parseSpiffeId(42 as unknown as string), { code: 'FST_RAMPART_INVALID_SPIFFE_ID', message: 'Invalid SPIFFE ID: must be a string' })
})
