import { type KeyObject, sign as cryptoSign } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose'
import jwtPlugin from '../../plugins/jwt/plugin.js'
import type { JwtOptions } from '../../schemas/jwt.js'
import { makeApp } from '../helpers.js'

export const ISSUER = 'https://auth.example.com/'
export const AUDIENCE = 'https://api.example.com'
export const START = 1_800_000_000_000

/** A clock the test moves by hand, shared by the plugin and the tokens it is given. */
export function fakeClock (start = START) {
  let now = start
  return {
    now: () => now,
    seconds: () => Math.floor(now / 1000),
    advance: (ms: number) => {
      now += ms
    },
  }
}
export type Clock = ReturnType<typeof fakeClock>

export interface TestKey {
  alg: string
  kid: string | undefined
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']
  jwk: JWK
}

export async function makeKey (alg = 'RS256', kid: string | undefined = `${alg}-key`, options: { modulusLength?: number } = {}): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...options })
  const jwk = await exportJWK(publicKey)
  if (kid !== undefined) jwk.kid = kid
  jwk.alg = alg
  jwk.use = 'sig'
  return { alg, kid, privateKey, jwk }
}

export interface SignOptions {
  clock: Clock
  claims?: JWTPayload
  header?: Record<string, unknown>
  /** Claims to leave out of the defaults. */
  omit?: string[]
}

/** An RFC 9068 access token valid for an hour on the fake clock, with overrides. */
export async function sign (key: TestKey, options: SignOptions): Promise<string> {
  const iat = options.clock.seconds()
  const claims: JWTPayload = { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', iat, exp: iat + 3600, jti: `jti-${Math.random()}`, ...options.claims }
  for (const name of options.omit ?? []) delete claims[name]
  const header = { alg: key.alg, typ: 'at+jwt', ...(key.kid === undefined ? {} : { kid: key.kid }), ...options.header }
  return await new SignJWT(claims).setProtectedHeader(header as never).sign(key.privateKey)
}

function b64url (value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/** A token put together by hand (for `alg: none` and other things jose will not sign). */
export function unsigned (header: Record<string, unknown>, claims: JWTPayload, signature = ''): string {
  return `${b64url(header)}.${b64url(claims)}.${signature}`
}

export interface JwksServer {
  url: string
  /** What the server answers; change it between requests. */
  state: { keys: JWK[]; status: number; delayMs: number; location?: string }
  fetches: number
  stop(): Promise<void>
}

/** A real JWKS endpoint on 127.0.0.1 (port 0). */
export async function jwksServer (t: { teardown: (fn: () => unknown) => void }, keys: JWK[]): Promise<JwksServer> {
  const result: JwksServer = {
    url: '',
    state: { keys, status: 200, delayMs: 0 },
    fetches: 0,
    stop: async () => {
      if (!server.listening) return
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
  const server: Server = createServer((req, res) => {
    result.fetches++
    const { status, delayMs, location } = result.state
    const answer = () => {
      if (location !== undefined) res.setHeader('location', location)
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ keys: result.state.keys }))
    }
    if (delayMs > 0) setTimeout(answer, delayMs).unref()
    else answer()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  result.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/.well-known/jwks.json`
  t.teardown(() => result.stop())
  return result
}

/** An app with jwtPlugin and one route answering request.auth. */
export async function jwtApp (
  t: { teardown: (fn: () => unknown) => void },
  options: Partial<JwtOptions> & Pick<JwtOptions, 'issuers'>,
  routes: (app: FastifyInstance) => void = () => {}
): Promise<FastifyInstance> {
  const app = makeApp(t)
  await app.register(jwtPlugin, options)
  app.get('/', async (request) => ({ auth: request.auth }))
  routes(app)
  await app.ready()
  return app
}

export function bearer (token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}

/** The issuer entry for a local key set. */
export function localIssuer (...keys: TestKey[]) {
  return { issuer: ISSUER, audience: AUDIENCE, keys: { keys: keys.map((k) => k.jwk) } }
}

/** An RS256 token signed with node:crypto, past jose's own checks (crit, short keys). */
export function signRs256 (privateKey: KeyObject, header: Record<string, unknown>, claims: JWTPayload): string {
  const input = `${b64url({ alg: 'RS256', typ: 'at+jwt', ...header })}.${b64url(claims)}`
  return `${input}.${cryptoSign('sha256', Buffer.from(input), privateKey).toString('base64url')}`
}
