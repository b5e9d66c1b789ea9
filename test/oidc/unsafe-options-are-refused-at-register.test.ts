import { randomBytes } from 'node:crypto'
import t from 'tap'
import oidcLoginPlugin from '../../plugins/oidc/plugin.js'
import { isLoopback } from '../../plugins/oidc/resolve.js'
import { caught, makeApp } from '../helpers.js'
import { freePort } from '../redis-helpers.js'
import { SECRET_A } from './provider.js'

const ISSUER = 'https://login.example.com'

/** Discovery metadata served by a fake fetch, for providers we cannot run (https, odd metadata). */
function metadata (extra: Record<string, unknown> = {}) {
  return {
    issuer: ISSUER,
    authorization_endpoint: `${ISSUER}/authorize`,
    token_endpoint: `${ISSUER}/token`,
    jwks_uri: `${ISSUER}/jwks`,
    ...extra,
  }
}

function fakeFetch (body: Record<string, unknown>) {
  const seen: string[] = []
  const fn = async (url: string) => {
    seen.push(url)
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } })
  }
  return { fn, seen }
}

const base = {
  issuer: ISSUER,
  clientId: 'web',
  redirectUri: 'https://app.example.com/auth/callback',
  stateSecrets: [SECRET_A],
  onLogin: () => {},
}

t.test('every unsafe or malformed option is listed, none echoing a secret', async (t) => {
  const err = await caught(() => makeApp(t).register(oidcLoginPlugin, {
    issuer: 'http://login.example.com',
    clientId: 'web',
    clientSecret: 'super-secret-value',
    redirectUri: 'http://app.example.com/auth/callback#frag',
    scopes: ['email'],
    stateSecrets: ['short-secret-value', SECRET_A],
    onLogin: () => {},
  } as never).ready())
  t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
  t.same(err.problems, [
    'oidc.issuer: must use https (plain http only on loopback: localhost, 127.0.0.1, [::1])',
    'oidc.redirectUri: must use https (plain http only on loopback: localhost, 127.0.0.1, [::1])',
    'oidc.redirectUri: must not have a fragment',
    "oidc.scopes: must include 'openid'",
    'oidc.stateSecrets[0]: must be at least 32 bytes (e.g. 32 random bytes, base64)',
  ])
  t.notOk(err.message.includes('short-secret-value'))
  t.notOk(err.message.includes('super-secret-value'))
})

t.test('state secrets may be strings or Buffers, at least 32 bytes either way', async (t) => {
  const err = await caught(() => makeApp(t).register(oidcLoginPlugin, { ...base, stateSecrets: [randomBytes(16), {}] } as never).ready())
  t.same(err.problems, [
    'oidc.stateSecrets[0]: must be at least 32 bytes (e.g. 32 random bytes, base64)',
    'oidc.stateSecrets[1]: must be a string or a Buffer',
  ])
  const typed = await caught(() => makeApp(t).register(oidcLoginPlugin, { ...base, stateSecrets: [5] } as never).ready())
  t.same(typed.problems, ['oidc.stateSecrets[0]: must be a string or a Buffer (got number)'])
})

t.test('PKCE cannot be turned off or set to plain', async (t) => {
  const err = await caught(() => makeApp(t).register(oidcLoginPlugin, { ...base, pkce: false, codeChallengeMethod: 'plain' } as never).ready())
  t.same(err.problems, [
    'oidc.pkce: cannot be configured: PKCE with S256 is always used (got boolean)',
    "oidc.codeChallengeMethod: cannot be configured: PKCE with S256 is always used, never 'plain' (got string)",
  ])
})

t.test('types, paths and the callback route are checked', async (t) => {
  const err = await caught(() => makeApp(t).register(oidcLoginPlugin, {
    issuer: 'login.example.com',
    clientId: '',
    redirectUri: 'https://app.example.com/other',
    stateSecrets: [],
    scopes: ['openid email'],
    loginPath: 'auth/login',
    onLogin: 'no',
    onError: 1,
    store: { redis: 'memcached://x', extra: 1 },
    timeout: '5 minutes',
    cookieName: 'session',
    tokenEndpointAuthMethod: 'private_key_jwt',
    fetch: {},
    now: 0,
    other: true,
  } as never).ready())
  t.same(err.problems, [
    'oidc.issuer: must be an issuer URL (https://...) (got string)',
    'oidc.clientId: must not have fewer than 1 characters (got string)',
    "oidc.tokenEndpointAuthMethod: must be 'client_secret_basic' or 'client_secret_post' (got string)",
    'oidc.scopes[0]: must be a scope token (no spaces or quotes) (got string)',
    'oidc.stateSecrets: must not have fewer than 1 items',
    'oidc.loginPath: must be a path starting with "/" (got string)',
    'oidc.cookieName: must be a __Host- cookie name (got string)',
    'oidc.onLogin: must be a function (request, reply, { claims, tokens, returnTo }) (got string)',
    'oidc.onError: must be a function (request, reply, { error, errorDescription, returnTo }) (got number)',
    'oidc.store.redis: must be an ioredis client or a redis:// URL (got string)',
    'oidc.store.extra: is not a known option',
    "oidc.timeout: must be milliseconds or a duration like '10s' (got string)",
    'oidc.fetch: must be a function (url, init) => Promise<Response> (got object)',
    'oidc.now: must be a function () => number (got number)',
    'oidc.other: is not a known option',
  ])
  const paths = await caught(() => makeApp(t).register(oidcLoginPlugin, {
    ...base,
    redirectUri: 'https://app.example.com/other',
    issuer: 'https://login.example.com/?tenant=1',
    loginPath: '/auth/callback',
  }).ready())
  t.same(paths.problems, [
    'oidc.issuer: must not have a query',
    'oidc.callbackPath: must be the path of redirectUri (the provider sends the user back there)',
    'oidc.loginPath: must differ from callbackPath',
  ])
  const urls = await caught(() => makeApp(t).register(oidcLoginPlugin, { ...base, issuer: 'https://', redirectUri: 'https://[bad/cb' }).ready())
  t.same(urls.problems, ['oidc.issuer: must be an absolute URL', 'oidc.redirectUri: must be an absolute URL'])
})

t.test('plain http is allowed only on loopback', async (t) => {
  for (const host of ['localhost', '127.0.0.1', '127.10.0.3', '[::1]']) t.ok(isLoopback(host), host)
  for (const host of ['example.com', '127.0.0.1.nip.io', '10.0.0.1', 'localhost.evil.com', '[::2]']) t.notOk(isLoopback(host), host)
})

t.test('discovery runs at register through the given fetch; an https issuer needs no insecure mode', async (t) => {
  const { fn, seen } = fakeFetch(metadata({ code_challenge_methods_supported: ['S256'] }))
  const app = makeApp(t)
  await app.register(oidcLoginPlugin, { ...base, stateSecrets: [randomBytes(32)], fetch: fn, timeout: 2000 })
  t.same(seen, [`${ISSUER}/.well-known/openid-configuration`])
  const res = await app.inject('/auth/login')
  t.equal(res.statusCode, 302)
  t.match(res.headers.location, /^https:\/\/login\.example\.com\/authorize\?/)
})

t.test('a provider without S256, or without the code flow, is refused at register', async (t) => {
  const plainOnly = await caught(() => makeApp(t).register(oidcLoginPlugin, { ...base, fetch: fakeFetch(metadata({ code_challenge_methods_supported: ['plain'] })).fn }).ready())
  t.equal(plainOnly.code, 'FST_RAMPART_OIDC_DISCOVERY_FAILED')
  t.equal(plainOnly.message, 'OpenID Connect discovery of https://login.example.com failed: the provider does not support PKCE S256 (code_challenge_methods_supported)')
  const implicitOnly = await caught(() => makeApp(t).register(oidcLoginPlugin, { ...base, fetch: fakeFetch(metadata({ response_types_supported: ['id_token'] })).fn }).ready())
  t.equal(implicitOnly.message, "OpenID Connect discovery of https://login.example.com failed: the provider does not support response_type 'code'")
})

t.test('a provider that cannot be discovered, or names another issuer, fails the register', async (t) => {
  const port = await freePort()
  const down = await caught(() => makeApp(t).register(oidcLoginPlugin, {
    ...base,
    issuer: `http://127.0.0.1:${port}`,
    redirectUri: 'http://localhost:3000/auth/callback',
    timeout: '1s',
  }).ready())
  t.equal(down.code, 'FST_RAMPART_OIDC_DISCOVERY_FAILED')
  t.match(down.message, new RegExp(`^OpenID Connect discovery of http://127\\.0\\.0\\.1:${port} failed: `))
  const mixup = await caught(() => makeApp(t).register(oidcLoginPlugin, { ...base, fetch: fakeFetch(metadata({ issuer: 'https://evil.example.com' })).fn }).ready())
  t.equal(mixup.code, 'FST_RAMPART_OIDC_DISCOVERY_FAILED')
})
