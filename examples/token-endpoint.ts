import { randomBytes } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { assertPkce, createRedirectUriMatcher, createRefreshTokens, oauthErrorReply, type RefreshTokensOptions } from '../index.js'

// A small authorization server for your own public clients (a mobile app
// and a SPA): authorization code + PKCE S256, exact redirect URIs, access
// tokens signed with jose, refresh tokens rotated with reuse detection.

const clients = new Map([
  ['mobile-app', createRedirectUriMatcher('http://127.0.0.1/callback', { native: true })],
  ['web-app', createRedirectUriMatcher(['https://app.example/callback'])],
])

interface Code { clientId: string; redirectUri: string; challenge: string; method: string; userId: string; expiresAt: number }

export async function buildTokenEndpoint (options: { store?: RefreshTokensOptions['store'], issuer?: string } = {}): Promise<FastifyInstance> {
  const app = Fastify()
  const issuer = options.issuer ?? 'https://auth.example'
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] }
  const refreshTokens = createRefreshTokens<{ clientId: string; userId: string; scope: string }>({ store: options.store ?? 'memory' })
  app.addHook('onClose', () => refreshTokens.close())
  // One instance keeps codes in memory; several would use a shared one-time store.
  const codes = new Map<string, Code>()

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })

  app.get('/.well-known/jwks.json', async () => jwks)

  // A real server shows its login page here; the demo user is always logged in.
  app.get<{ Querystring: Record<string, string> }>('/authorize', async (request, reply) => {
    const q = request.query
    if (clients.get(q.client_id)?.(q.redirect_uri) !== true) return reply.code(400).send({ error: 'invalid_request', error_description: 'unknown client or redirect_uri' })
    if (q.code_challenge_method !== 'S256' || typeof q.code_challenge !== 'string') {
      return reply.redirect(`${q.redirect_uri}?error=invalid_request&error_description=PKCE+S256+required`)
    }
    const code = randomBytes(32).toString('base64url')
    codes.set(code, { clientId: q.client_id, redirectUri: q.redirect_uri, challenge: q.code_challenge, method: q.code_challenge_method, userId: 'demo-user', expiresAt: Date.now() + 60_000 })
    return reply.redirect(`${q.redirect_uri}?code=${code}&state=${encodeURIComponent(q.state ?? '')}`)
  })

  async function accessToken (userId: string, clientId: string, scope: string): Promise<string> {
    return new SignJWT({ scope, client_id: clientId })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
      .setIssuer(issuer).setSubject(userId).setAudience('https://api.example')
      .setIssuedAt().setExpirationTime('10m').setJti(randomBytes(16).toString('base64url'))
      .sign(privateKey)
  }

  app.post<{ Body: Record<string, string | undefined> }>('/token', async (request, reply) => {
    const body = request.body ?? {}
    try {
      if (typeof body.client_id !== 'string' || !clients.has(body.client_id)) {
        return oauthErrorReply(reply, { error: 'invalid_client', error_description: 'unknown client' })
      }
      let grant: { clientId: string; userId: string; scope: string }
      let refreshToken: string
      if (body.grant_type === 'authorization_code') {
        const code = codes.get(body.code ?? '')
        codes.delete(body.code ?? '')
        if (code === undefined || code.expiresAt < Date.now() || code.clientId !== body.client_id || code.redirectUri !== body.redirect_uri) {
          return oauthErrorReply(reply, { error: 'invalid_grant', error_description: 'invalid authorization code' })
        }
        assertPkce({ storedChallenge: code.challenge, storedMethod: code.method, verifier: body.code_verifier })
        grant = { clientId: code.clientId, userId: code.userId, scope: 'openid offline_access' }
        refreshToken = (await refreshTokens.issue(grant)).token
      } else if (body.grant_type === 'refresh_token') {
        const rotated = await refreshTokens.rotate(body.refresh_token, { clientId: body.client_id })
        grant = rotated.grant
        refreshToken = rotated.token
      } else {
        return oauthErrorReply(reply, { error: 'unsupported_grant_type', error_description: 'authorization_code or refresh_token' })
      }
      reply.header('cache-control', 'no-store')
      return {
        access_token: await accessToken(grant.userId, grant.clientId, grant.scope),
        token_type: 'Bearer',
        expires_in: 600,
        refresh_token: refreshToken,
        scope: grant.scope,
      }
    } catch (err) {
      return oauthErrorReply(reply, err) // FST_RAMPART_OAUTH_INVALID_GRANT → 400 invalid_grant; anything else → 500
    }
  })

  return app
}
