import { Redis } from 'ioredis'
import { createLocalJWKSet, jwtVerify } from 'jose'
import t, { type Test } from 'tap'
import { buildTokenEndpoint } from '../../examples/token-endpoint.js'
import { createPkcePair } from '../../index.js'
import { REDIS_URL, skipRedis, uniquePrefix } from '../redis-helpers.js'

// Property runs and Redis round trips: more than tap's default 30 s on a loaded machine.
t.setTimeout(120_000)

const form = (fields: Record<string, string>) => ({
  method: 'POST' as const,
  url: '/token',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload: new URLSearchParams(fields).toString(),
})

async function endpoint (t: Test, store?: NonNullable<Parameters<typeof buildTokenEndpoint>[0]>['store']) {
  const app = await buildTokenEndpoint(store === undefined ? {} : { store })
  t.teardown(() => app.close())
  return app
}

async function login (app: Awaited<ReturnType<typeof buildTokenEndpoint>>, redirectUri = 'http://127.0.0.1:51004/callback', clientId = 'mobile-app') {
  const pkce = createPkcePair()
  const query = new URLSearchParams({ client_id: clientId, redirect_uri: redirectUri, code_challenge: pkce.challenge, code_challenge_method: 'S256', state: 's1' })
  const res = await app.inject(`/authorize?${query}`)
  const location = new URL(res.headers.location as string)
  return { pkce, code: location.searchParams.get('code') as string, location, res }
}

function flows (t: Test, store?: NonNullable<Parameters<typeof buildTokenEndpoint>[0]>['store']) {
  t.test('code + PKCE → signed access token and refresh token; rotation; reuse logs both parties out', async (t) => {
    const app = await endpoint(t, store)
    const { pkce, code, location } = await login(app)
    t.equal(location.origin + location.pathname, 'http://127.0.0.1:51004/callback')
    t.equal(location.searchParams.get('state'), 's1')

    const first = await app.inject(form({ grant_type: 'authorization_code', client_id: 'mobile-app', code, redirect_uri: 'http://127.0.0.1:51004/callback', code_verifier: pkce.verifier }))
    t.equal(first.statusCode, 200)
    t.equal(first.headers['cache-control'], 'no-store')
    const tokens = first.json()
    t.match(tokens, { token_type: 'Bearer', expires_in: 600, refresh_token: /^[A-Za-z0-9_-]{43}$/, scope: 'openid offline_access' })
    const jwks = createLocalJWKSet((await app.inject('/.well-known/jwks.json')).json())
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, { issuer: 'https://auth.example', audience: 'https://api.example' })
    t.match(payload, { sub: 'demo-user', client_id: 'mobile-app', scope: 'openid offline_access' })
    t.equal(protectedHeader.typ, 'at+jwt')

    const again = await app.inject(form({ grant_type: 'authorization_code', client_id: 'mobile-app', code, redirect_uri: 'http://127.0.0.1:51004/callback', code_verifier: pkce.verifier }))
    t.same(again.json(), { error: 'invalid_grant', error_description: 'invalid authorization code' }, 'a code works once')

    const second = await app.inject(form({ grant_type: 'refresh_token', client_id: 'mobile-app', refresh_token: tokens.refresh_token }))
    t.equal(second.statusCode, 200)
    const rotated = second.json()
    t.not(rotated.refresh_token, tokens.refresh_token)
    t.match((await jwtVerify(rotated.access_token, jwks)).payload, { sub: 'demo-user' })

    const reuse = await app.inject(form({ grant_type: 'refresh_token', client_id: 'mobile-app', refresh_token: tokens.refresh_token }))
    t.equal(reuse.statusCode, 400)
    t.equal(reuse.headers['cache-control'], 'no-store')
    t.same(reuse.json(), { error: 'invalid_grant', error_description: 'refresh token already used' })
    const after = await app.inject(form({ grant_type: 'refresh_token', client_id: 'mobile-app', refresh_token: rotated.refresh_token }))
    t.same(after.json(), { error: 'invalid_grant', error_description: 'refresh token revoked' })
  })
}

t.test('the token endpoint example, memory store', async (t) => {
  flows(t)

  t.test('a wrong verifier, a missing one, another redirect URI or client are refused', async (t) => {
    const app = await endpoint(t)
    const cases: [Record<string, string>, number, string][] = [
      [{ code_verifier: createPkcePair().verifier }, 400, 'invalid_grant'],
      [{}, 400, 'invalid_grant'],
      [{ redirect_uri: 'http://127.0.0.1:51005/callback' }, 400, 'invalid_grant'],
      [{ client_id: 'web-app' }, 400, 'invalid_grant'],
      [{ client_id: 'nobody' }, 401, 'invalid_client'],
      [{ grant_type: 'password' }, 400, 'unsupported_grant_type'],
    ]
    for (const [override, status, error] of cases) {
      const { pkce, code } = await login(app)
      const fields: Record<string, string> = { grant_type: 'authorization_code', client_id: 'mobile-app', code, redirect_uri: 'http://127.0.0.1:51004/callback', code_verifier: pkce.verifier, ...override }
      if (!('code_verifier' in override) && Object.keys(override).length === 0) delete fields.code_verifier
      const res = await app.inject(form(fields))
      t.equal(res.statusCode, status, JSON.stringify(override))
      t.equal(res.json().error, error)
    }
    t.equal((await app.inject({ method: 'POST', url: '/token' })).statusCode, 401, 'no body at all')
    const noCode = await app.inject(form({ grant_type: 'authorization_code', client_id: 'mobile-app' }))
    t.same(noCode.json(), { error: 'invalid_grant', error_description: 'invalid authorization code' })
  })

  t.test('the authorization step refuses unknown redirect URIs and requires S256', async (t) => {
    const app = await endpoint(t)
    const bad = await app.inject('/authorize?client_id=web-app&redirect_uri=https://app.example.evil.com/callback&code_challenge_method=S256&code_challenge=x')
    t.equal(bad.statusCode, 400)
    const plain = await app.inject('/authorize?client_id=web-app&redirect_uri=https://app.example/callback&code_challenge_method=plain&code_challenge=x')
    t.equal(plain.headers.location, 'https://app.example/callback?error=invalid_request&error_description=PKCE+S256+required')
    const { location } = await login(app, 'https://app.example/callback', 'web-app')
    t.equal(location.searchParams.get('state'), 's1')
    const noState = await app.inject(`/authorize?client_id=web-app&redirect_uri=https://app.example/callback&code_challenge_method=S256&code_challenge=${createPkcePair().challenge}`)
    t.match(noState.headers.location, /&state=$/)
  })

  t.test('a store failure is a 500, not a client error', async (t) => {
    const failing = { create: async () => { throw new Error('down') }, find: async () => undefined, rotate: async () => 'missing' as const, revoke: async () => false }
    const app = await endpoint(t, failing)
    const { pkce, code } = await login(app)
    const res = await app.inject(form({ grant_type: 'authorization_code', client_id: 'mobile-app', code, redirect_uri: 'http://127.0.0.1:51004/callback', code_verifier: pkce.verifier }))
    t.equal(res.statusCode, 500)
  })
})

t.test('the token endpoint example, Redis store', { skip: skipRedis }, async (t) => {
  const prefix = uniquePrefix('example')
  // The example keeps the default 30-day lifetime: remove this run's keys rather than leave them that long.
  t.teardown(async () => {
    const client = new Redis(REDIS_URL)
    const keys = await client.keys(`${prefix}*`)
    if (keys.length > 0) await client.del(...keys)
    client.disconnect()
  })
  flows(t, { redis: REDIS_URL, prefix })
})
