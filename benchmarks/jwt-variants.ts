import { createPrivateKey, createPublicKey, sign as cryptoSign } from 'node:crypto'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { Variant } from './variants.js'
// The servers load the built package (see variants.ts).
const { jwtPlugin } = (await import(process.env.RAMPART_ENTRY ?? '../dist/index.js')) as typeof import('../index.js')

// Loaded by a computed name, as variants.ts does for the official plugins:
// @fastify/jwt declares `request.user` and reply methods that clash with ours.
async function official (name: string): Promise<FastifyPluginAsync<Record<string, unknown>>> {
  return (await import(name)).default
}

// One fixed RS256 key for every server process and the load generator, so
// both sides verify the very same token. A throwaway benchmark key: it
// signs nothing but the token below.
const PRIVATE_PEM = `-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCaxXs2/w/ovQzd
T9KY9sAUCw2cr2ndbsa8GD5GI0fVBsMmE3MnOaFMOyGLF/f959h4ogpR8N/FVVa8
2zogQuqOm6tDcUwFSJ/yEH5+sPfBkH1d+pDx61WX4i0VPpTHJmEIy2hUQYAdRmQ1
lFHWzXG2TUt7tNp6zrwa1akOM4Xgm9/2rXjAsCLl1AXf7CYwbocHER945M8gYAnV
PlgpJddKHhNMwHpzYajkJ5KWBkITm1TmEaSRNqrbGkEPT/rOuRcZfTuy1vTxgzkh
J/VezeR10e6pakn8qH6Z4AODCnkLEmY4e/OjQb3fugF+3RzBl8QKXuqXlCnOvrm7
U1BkyKp9AgMBAAECggEADu76FhLjQpYnLR18GQVKAEUWwaUNRm/fXhvKunLCBhR6
dOyQglrlrNjRwj2EUKvzr6QW8dQXi09SKLPQdnducWckzcObTbE1uaIMyoWhyjv6
VLyOCsGlxxtsNS4OJe8WksYpoWOWjHyTw7W1dc/p5mir3VpUcGANN1uhTbz78HGD
VxlK8vYU+NDXtd5o7EzCsu2wmQjBMxXOVLByePTD5SsfebDCdk2MvcESaaQuh2lu
hcSOcZGTDES2KRraIS102iKnP15OzBzrVdBmpH0iUcJbHtslZa8jjaxl4ulLGCV+
Kcf93AWJfWbDUmrfXtb6rjNO7AmjB0FnXUuZi18RowKBgQDVlurCaceOcacFg1gD
r4uWIYqVFT84msg35we+zj/fAaK5/jbZPDWa0uGKPUrqhN8GhtviCqRVDEeTIhX8
ku3/gntSwyrMmzYdmy35xgbCqUEoiP5NeOowrjRxA9BiScDdgrZILzyIYMbFkMmL
PhKUoVavU0o6jX0fNiYVJSiBhwKBgQC5gL/ljb4ingDP6gEbC8JUzZ/SXE4Ski7t
/G6fSjWWZU4+dAlUfvhGNNN01bjYaf996YUj55cwQ/PhC4c6FnviWY17oPgzK3Xg
fQUeHSD5PRAugX3PLfTd+E2bT1jv+Vg956mMR7HU9un5d+VihglNubeP9x/ElteN
F3yq1/ZE2wKBgQC9TLhb/ixjTs9cz3/eJGNud+O/JcmWfXgeM6Blt55cI7L5bRln
hzlrMqO6RYB0Qbb4reWLfSsQRYXaHUenRwGwhxCN1XPFS3q22qXwzVWIiUG6j0/z
kcrdwkewMlUqB3vr1sF/UH4x0LPavewigK0vFZ8iXItZQbU3SGKQMxKnWQKBgEYH
keoyMXZWGc5j89jm/o0PN2etyxd9slPLuWNPG53UTs6K9b69VDME3FM+H9MraPV6
w/WDB3OEI7xworNOK6SO1De41BpVLOH7sIPm0TzmTYaRAhLFsaxegcXBFb06b5Kn
Mz2vDzZrpHa2SZWBLl/2XZLu40JPA77TABBrCSCDAoGBAJvpIIrY3Pq+qIDTau27
8LAa2gB7AeLkIAAYiWFvgqXauEmRGfOYHtjb+0rxBxBoTRAYQHDHdHfJeuBjifEW
ep7xj3oUtNO4BwwWVJ1PpUJJKBNePiX4gYyevEoEzJve8S4YEue499db43LoDUrw
FL9huSdDL/Znj7i4yK6xhz3G
-----END PRIVATE KEY-----`
const privateKey = createPrivateKey(PRIVATE_PEM)
const publicKey = createPublicKey(privateKey)
const PUBLIC_PEM = publicKey.export({ type: 'spki', format: 'pem' }) as string
const ISSUER = 'https://auth.example.com/'
const AUDIENCE = 'https://api.example.com'

function b64url (value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

// Fixed claims, so every process computes the same token (RS256 signatures are deterministic).
const input = `${b64url({ alg: 'RS256', typ: 'at+jwt', kid: 'bench' })}.${b64url({
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'bench-user',
  iat: 1_700_000_000,
  exp: 4_102_444_800,
  scope: 'read',
})}`
export const BENCH_TOKEN = `${input}.${cryptoSign('sha256', Buffer.from(input), privateKey).toString('base64url')}`

/** A benchmark variant that needs its own request headers (here the bearer token). */
export interface JwtVariant extends Variant {
  headers: Record<string, string>
}

const headers = { authorization: `Bearer ${BENCH_TOKEN}` }
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'bench', alg: 'RS256', use: 'sig' }

async function rampart (app: Parameters<Variant['build']>[0], cache: boolean): Promise<void> {
  await app.register(jwtPlugin, {
    issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys: { keys: [jwk as never] }, algorithms: ['RS256'] }],
    // The token's iat is fixed; the age check would refuse it.
    maxTokenAge: false,
    cache: cache ? {} : false,
  })
}

/**
 * `rampart jwt` against `@fastify/jwt` (fast-jwt, its verify cache on, same
 * key, same token). The cache-hit variant is what a client repeating its
 * token costs; the no-cache one is a signature check per request.
 */
export const JWT_VARIANTS: Record<string, JwtVariant> = {
  'rampart-jwt': {
    label: 'rampart jwt (cache hits)',
    official: 'fastify-jwt',
    headers,
    build: async (app) => rampart(app, true),
  },
  'rampart-jwt-nocache': {
    label: 'rampart jwt (no cache)',
    official: 'fastify-jwt-nocache',
    headers,
    build: async (app) => rampart(app, false),
  },
  'fastify-jwt': {
    label: '@fastify/jwt (verify cache on)',
    headers,
    build: async (app) => {
      await app.register(await official('@fastify/jwt'), {
        secret: { public: PUBLIC_PEM },
        verify: { algorithms: ['RS256'], allowedIss: ISSUER, allowedAud: AUDIENCE, cache: true },
      })
      app.addHook('onRequest', async (request: FastifyRequest) => {
        await (request as unknown as { jwtVerify: () => Promise<unknown> }).jwtVerify()
      })
    },
  },
  'fastify-jwt-nocache': {
    label: '@fastify/jwt (no cache)',
    headers,
    build: async (app) => {
      await app.register(await official('@fastify/jwt'), {
        secret: { public: PUBLIC_PEM },
        verify: { algorithms: ['RS256'], allowedIss: ISSUER, allowedAud: AUDIENCE },
      })
      app.addHook('onRequest', async (request: FastifyRequest) => {
        await (request as unknown as { jwtVerify: () => Promise<unknown> }).jwtVerify()
      })
    },
  },
}
