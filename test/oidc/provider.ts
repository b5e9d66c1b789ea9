import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { exportJWK, generateKeyPair } from 'jose'
import Provider from 'oidc-provider'
import type { OidcOptions } from '../../schemas/oidc.js'

// A real OpenID provider (oidc-provider) on a loopback port, one per test
// file, with a confidential client `web` and a public client `spa`, PKCE
// required, and its development login/consent pages driven by `Browser`.

export const CLIENT_SECRET = 'web-client-secret-for-tests-only-0123456789'
export const REDIRECT_URI = 'http://127.0.0.1:3999/auth/callback'
export const SECRET_A = 'state-secret-a-0123456789abcdef0123456789abcdef'
export const SECRET_B = 'state-secret-b-0123456789abcdef0123456789abcdef'
export const SECRET_C = 'state-secret-c-0123456789abcdef0123456789abcdef'

export interface TestProvider {
  issuer: string
  provider: Provider
  server: Server
  close(): Promise<void>
}

export async function startProvider (): Promise<TestProvider> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  const issuer = `http://127.0.0.1:${port}`
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'web',
        client_secret: CLIENT_SECRET,
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
      {
        client_id: 'spa',
        token_endpoint_auth_method: 'none',
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    // Every client must send PKCE (oidc-provider only accepts S256).
    pkce: { required: () => true },
    jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'test' }] },
    cookies: { keys: ['provider-cookie-key-for-tests'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    features: { devInteractions: { enabled: true } },
    // Scope claims (email) in the id_token itself, so onLogin sees them.
    conformIdTokenClaims: false,
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
    async findAccount (_ctx: unknown, sub: string) {
      return { accountId: sub, claims: async () => ({ sub, email: `${sub}@example.com`, email_verified: true }) }
    },
  })
  server.on('request', provider.callback())
  return {
    issuer,
    provider,
    server,
    async close () {
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}

/** A browser: cookies per origin, redirects followed, the provider's dev login and consent forms submitted. */
export class Browser {
  readonly providerCookies = new Map<string, string>()
  readonly appCookies = new Map<string, string>()

  constructor (readonly app: FastifyInstance, readonly issuer: string) {}

  static keep (jar: Map<string, string>, setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';')
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      const expired = attributes.some((a) => /^\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(a))
      if (expired || value === '') jar.delete(name)
      else jar.set(name, value)
    }
  }

  static header (jar: Map<string, string>): string {
    return [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  async providerRequest (url: string, body?: Record<string, string>): Promise<Response> {
    const res = await fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      redirect: 'manual',
      headers: {
        cookie: Browser.header(this.providerCookies),
        ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      body: body === undefined ? undefined : new URLSearchParams(body).toString(),
    })
    Browser.keep(this.providerCookies, res.headers.getSetCookie())
    return res
  }

  /** GET on the app, keeping its cookies. */
  async appGet (url: string, cookie?: string) {
    const res = await this.app.inject({ method: 'GET', url, headers: { cookie: cookie ?? Browser.header(this.appCookies) } })
    const set = res.headers['set-cookie']
    Browser.keep(this.appCookies, set === undefined ? [] : Array.isArray(set) ? set : [set])
    return res
  }

  /**
   * Starts at the app's login path and follows the provider until it sends
   * the browser back to the redirect URI; returns that URL (path and query)
   * without calling it, so a test can look at it or tamper with it first.
   */
  async loginUntilCallback (loginUrl = '/auth/login', options: { account?: string; abort?: boolean } = {}): Promise<string> {
    const start = await this.appGet(loginUrl)
    if (start.statusCode !== 302) throw new Error(`login answered ${start.statusCode}`)
    let location = start.headers.location as string
    for (let step = 0; step < 12; step++) {
      if (location.startsWith(REDIRECT_URI)) return location.slice('http://127.0.0.1:3999'.length)
      const res = await this.providerRequest(new URL(location, this.issuer).href)
      if (res.status >= 300 && res.status < 400) {
        location = res.headers.get('location') as string
        continue
      }
      const html = await res.text()
      const uid = /\/interaction\/([^/"]+)"/.exec(html)?.[1]
      if (res.status !== 200 || uid === undefined) throw new Error(`provider answered ${res.status}: ${html.slice(0, 300)}`)
      const submit = `${this.issuer}/interaction/${uid}`
      const answer = options.abort === true
        ? await this.providerRequest(`${submit}/abort`)
        : html.includes('value="login"')
          ? await this.providerRequest(submit, { prompt: 'login', login: options.account ?? 'alice', password: 'x' })
          : await this.providerRequest(submit, { prompt: 'consent' })
      location = answer.headers.get('location') as string
    }
    throw new Error('too many redirects')
  }
}

/** Options for the app under test: the confidential client, onLogin answering with what it got. */
export function appOptions (issuer: string, overrides: Partial<OidcOptions> = {}): OidcOptions {
  return {
    issuer,
    clientId: 'web',
    clientSecret: CLIENT_SECRET,
    redirectUri: REDIRECT_URI,
    scopes: ['openid', 'email'],
    stateSecrets: [SECRET_A],
    onLogin: async (_request, reply, login) => reply.send({ sub: login.claims.sub, email: login.claims.email, returnTo: login.returnTo }),
    ...overrides,
  } as OidcOptions
}

/** The callback URL with one query parameter replaced, added (`append`) or removed (`null`). */
export function editCallback (url: string, name: string, value: string | null, append = false): string {
  const parsed = new URL(url, 'http://127.0.0.1')
  if (value === null) parsed.searchParams.delete(name)
  else if (append) parsed.searchParams.append(name, value)
  else parsed.searchParams.set(name, value)
  return parsed.pathname + parsed.search
}

export function paramOf (url: string, name: string): string {
  return new URL(url, 'http://127.0.0.1').searchParams.get(name) as string
}

/** The state's payload, decoded (the tests know the format; the browser has no reason to). */
export function statePayload (state: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(state.split('.')[1], 'base64url').toString('utf8'))
}

export const INVALID = {
  statusCode: 400,
  code: 'FST_RAMPART_OIDC_CALLBACK_INVALID',
  error: 'Bad Request',
  message: 'Invalid login callback',
}
