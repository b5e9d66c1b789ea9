import { randomBytes } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import { authorizeID, authorizeMemberOf, mtlsPlugin, mtlsServerOptions, oidcLoginPlugin } from '../index.js'

// The parts of the demo that need something from outside: an identity
// provider (OIDC_ISSUER) or SPIFFE certificates (MTLS_CERT, MTLS_KEY,
// MTLS_BUNDLE). Nothing here runs without them, so the test suite does not
// reach it; the plugins themselves are tested in test/oidc and test/mtls
// against a real oidc-provider and real TLS.
/* c8 ignore start -- runs only with a real IdP or real SVID files, see above */

/** "Log in with your identity provider" on the demo app, when OIDC_ISSUER is set. */
export async function addOidcLogin (app: FastifyInstance): Promise<boolean> {
  const issuer = process.env.OIDC_ISSUER
  if (issuer === undefined || issuer === '') return false
  await app.register(oidcLoginPlugin, {
    issuer,
    clientId: process.env.OIDC_CLIENT_ID ?? 'web',
    clientSecret: process.env.OIDC_SECRET,
    redirectUri: process.env.OIDC_REDIRECT_URI ?? 'http://localhost:3000/auth/callback',
    scopes: ['openid', 'email'],
    // A fixed STATE_KEY lets logins survive a restart and span instances.
    stateSecrets: [process.env.STATE_KEY ?? randomBytes(32).toString('base64')],
    // The demo keeps no session: it shows who logged in. A real app starts its session here.
    onLogin: async (_request, reply, { claims, returnTo }) => reply.send({ loggedIn: claims.sub, email: claims.email ?? null, returnTo }),
  })
  return true
}

/** A second listener for service-to-service calls over mTLS, when SVID files are given. */
export async function startMtlsListener (host: string): Promise<FastifyInstance | undefined> {
  const { MTLS_CERT: cert, MTLS_KEY: key, MTLS_BUNDLE: bundle } = process.env
  if (!cert || !key || !bundle) return undefined
  const files = { cert, key, bundle }
  const trustDomain = process.env.MTLS_TRUST_DOMAIN ?? 'example.org'
  const mtls = Fastify({ logger: true, https: mtlsServerOptions(files) })
  await mtls.register(mtlsPlugin, { files, watch: true, authorize: authorizeMemberOf(trustDomain) })
  mtls.get('/internal/whoami', async (request) => ({ spiffeId: request.spiffeId?.toString() }))
  mtls.get(
    '/internal/payments',
    { config: { security: { mtls: { authorize: authorizeID(`spiffe://${trustDomain}/ns/prod/sa/checkout`) } } } },
    async () => ({ ok: true })
  )
  await mtls.listen({ host, port: Number(process.env.MTLS_PORT ?? 8443) })
  return mtls
}
/* c8 ignore stop */
