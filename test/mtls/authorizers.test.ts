import t from 'tap'
import { authorizeAny, authorizeID, authorizeMemberOf, authorizeOneOf, parseSpiffeId } from '../../index.js'

const checkout = parseSpiffeId('spiffe://example.org/ns/prod/sa/checkout')
const other = parseSpiffeId('spiffe://example.org/ns/prod/sa/other')
const evil = parseSpiffeId('spiffe://example.org.evil/ns/prod/sa/checkout')

t.test('authorizeAny lets every parsed ID through', async (t) => {
  t.equal(authorizeAny()(evil, []), true)
})

t.test('authorizeID matches the whole ID, given as a string or a parsed ID', async (t) => {
  t.equal(authorizeID('spiffe://example.org/ns/prod/sa/checkout')(checkout, []), true)
  t.equal(authorizeID(checkout)(checkout, []), true)
  t.equal(authorizeID(checkout)(other, []), false)
  t.equal(authorizeID(checkout)(evil, []), false)
  t.equal(authorizeID('spiffe://example.org/ns/prod/sa/check')(checkout, []), false)
})

t.test('authorizeOneOf takes IDs as arguments or one list', async (t) => {
  const listed = authorizeOneOf(['spiffe://example.org/ns/prod/sa/checkout', other])
  const spread = authorizeOneOf('spiffe://example.org/ns/prod/sa/checkout', 'spiffe://example.org/ns/prod/sa/other')
  for (const authorize of [listed, spread]) {
    t.equal(authorize(checkout, []), true)
    t.equal(authorize(other, []), true)
    t.equal(authorize(evil, []), false)
  }
})

t.test('authorizeMemberOf compares the whole trust domain name', async (t) => {
  for (const authorize of [authorizeMemberOf('example.org'), authorizeMemberOf('spiffe://example.org')]) {
    t.equal(authorize(checkout, []), true)
    t.equal(authorize(evil, []), false)
    t.equal(authorize(parseSpiffeId('spiffe://evil.org/ns/prod/sa/checkout'), []), false)
    t.equal(authorize(parseSpiffeId('spiffe://org/a'), []), false)
  }
})

t.test('authorizers refuse to be built from invalid IDs', async (t) => {
  t.throws(() => authorizeID('spiffe://Example.org/a'), { code: 'FST_RAMPART_INVALID_SPIFFE_ID' })
  t.throws(() => authorizeOneOf('spiffe://example.org/a', 'spiffe://example.org/a/'), { code: 'FST_RAMPART_INVALID_SPIFFE_ID' })
  t.throws(() => authorizeMemberOf('Example.org'), { message: 'Invalid SPIFFE ID: trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores' })
  t.throws(() => authorizeMemberOf(''), { message: 'Invalid SPIFFE ID: trust domain is missing' })
  t.throws(() => authorizeMemberOf('spiffe://example.org/'), { code: 'FST_RAMPART_INVALID_SPIFFE_ID' })
  t.throws(() => authorizeMemberOf(undefined as unknown as string), { message: 'Invalid SPIFFE ID: a trust domain must be a string' })
})
