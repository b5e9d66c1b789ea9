import t from 'tap'
import { createRedirectUriMatcher } from '../../oauth/redirect-uri.js'
import { caught } from '../helpers.js'

t.test('a registered https URI matches itself only, byte for byte', async (t) => {
  const matches = createRedirectUriMatcher('https://app.example/cb')
  t.equal(matches('https://app.example/cb'), true)
  const refused = [
    'https://app.example/cb/',
    'https://APP.example/cb',
    'https://app.example/cb?x=1',
    'https://app.example:443/cb',
    'https://app.example.evil.com/cb',
    'https://app.example@evil.com/cb',
    'https://app.example/%63b',
    'https://app.example/c',
    'https://app.example/cb#x',
    'http://app.example/cb',
    ' https://app.example/cb',
    '',
  ]
  for (const uri of refused) t.equal(matches(uri), false, uri)
  t.equal(matches(undefined), false)
  t.equal(matches(['https://app.example/cb']), false)
})

t.test('a client may register several URIs; a query is part of the exact match', async (t) => {
  const matches = createRedirectUriMatcher(['https://app.example/cb', 'https://app.example/cb?tenant=a'])
  t.equal(matches('https://app.example/cb'), true)
  t.equal(matches('https://app.example/cb?tenant=a'), true)
  t.equal(matches('https://app.example/cb?tenant=b'), false)
})

t.test('a native loopback registration matches any port, the path still exact', async (t) => {
  const native = createRedirectUriMatcher('http://127.0.0.1/cb', { native: true })
  t.equal(native('http://127.0.0.1:51004/cb'), true)
  t.equal(native('http://127.0.0.1/cb'), true)
  t.equal(native('http://127.0.0.1:65535/cb'), true)
  for (const uri of [
    'http://127.0.0.1:51004/cb2',
    'http://127.0.0.1:51004/cb/',
    'http://127.0.0.1:51004',
    'http://127.0.0.1:/cb',
    'http://127.0.0.1:0/cb',
    'http://127.0.0.1:065/cb',
    'http://127.0.0.1:65536/cb',
    'http://127.0.0.1:5x/cb',
    'http://127.0.0.1.evil.com/cb',
    'http://localhost:51004/cb',
    'https://127.0.0.1:51004/cb',
  ]) t.equal(native(uri), false, uri)

  const plain = createRedirectUriMatcher('http://127.0.0.1/cb')
  t.equal(plain('http://127.0.0.1:51004/cb'), false, 'not for a non-native matcher')
  t.equal(plain('http://127.0.0.1/cb'), true)
})

t.test('the native port rule covers [::1] and localhost, registered with or without a port, and never https', async (t) => {
  const native = createRedirectUriMatcher(['http://[::1]:8080/cb?x=1', 'http://localhost', 'https://app.example/cb'], { native: true })
  t.equal(native('http://[::1]:1234/cb?x=1'), true)
  t.equal(native('http://[::1]/cb?x=1'), true)
  t.equal(native('http://[::1]:1234/cb?x=2'), false)
  t.equal(native('http://localhost:3000'), true)
  t.equal(native('http://localhost:3000/'), false)
  t.equal(native('https://app.example:8443/cb'), false, 'https registrations stay exact')
})

t.test('registrations that could never be matched safely are refused, every problem listed', async (t) => {
  const err = await caught(() =>
    createRedirectUriMatcher([
      'https://*.app.example/cb',
      'https://app.example/cb#frag',
      'https://user:pass@app.example/cb',
      'https://@app.example/cb',
      'http://app.example/cb',
      'com.example.app:/cb',
      'not a uri',
      'http://LOCALHOST/cb',
      'http://127.0.0.1.evil.com/cb',
      'https://app.example/cb',
      'file:///etc/passwd',
    ])
  )
  t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
  const https = 'must be https, or http on a loopback host (http://127.0.0.1, http://[::1], http://localhost)'
  t.same(err.problems, [
    'redirectUris[0]: must not contain a wildcard (*): redirect URIs are compared exactly',
    'redirectUris[1]: must not contain a fragment (#) (RFC 6749 §3.1.2)',
    'redirectUris[2]: must not contain userinfo (user@host)',
    'redirectUris[3]: must not contain userinfo (user@host)',
    `redirectUris[4]: ${https}`,
    `redirectUris[5]: ${https}`,
    'redirectUris[6]: must not contain spaces or control characters',
    'redirectUris[6]: must be an absolute URI',
    `redirectUris[7]: ${https}`,
    `redirectUris[8]: ${https}`,
    `redirectUris[10]: ${https}`,
  ])
  t.notMatch(err.message, 'pass', 'never echoes the URI')
})

t.test('a single registration is named without an index; a host is required', async (t) => {
  const err = await caught(() => createRedirectUriMatcher('https:///cb'))
  t.same(err.problems, ['redirectUris: must have a host'])
  const wild = await caught(() => createRedirectUriMatcher('https://app.example/*'))
  t.same(wild.problems, ['redirectUris: must not contain a wildcard (*): redirect URIs are compared exactly'])
})

t.test('wrong types are listed with the options problems', async (t) => {
  const err = await caught(() => createRedirectUriMatcher(42 as unknown as string, { native: 'yes' as unknown as boolean }))
  t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
  t.same(err.problems, ['redirectUris: must be string or a list (got number)', 'options.native: must be boolean (got string)'])
  const empty = await caught(() => createRedirectUriMatcher([]))
  t.match(empty.problems, [/^redirectUris: /])
  const unknown = await caught(() => createRedirectUriMatcher('https://app.example/cb', { nativ: true } as never))
  t.same(unknown.problems, ['options.nativ: is not a known option'])
})
