import type { IncomingMessage } from 'node:http'

/** What the Authorization header holds, RFC 6750 §2.1. */
export type Credentials =
  | { kind: 'token'; token: string }
  | { kind: 'none' }
  | { kind: 'malformed'; reason: string }

// b64token, RFC 6750 §2.1.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/** Counts Authorization lines in the raw request: Node keeps only the first of several. */
function authorizationLines (raw: IncomingMessage): number {
  const rawHeaders = raw.rawHeaders
  let count = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]
    if (name.length === 13 && name.toLowerCase() === 'authorization') count++
  }
  return count
}

/**
 * Reads bearer credentials from the Authorization header only: a token in
 * `?access_token=` or the body is not accepted (RFC 6750 §2.3 and the API
 * cheat sheet: URLs end up in logs), so such a request counts as having none.
 */
export function readCredentials (raw: IncomingMessage): Credentials {
  const header = raw.headers.authorization as string | string[] | undefined
  if (header === undefined) return { kind: 'none' }
  if (Array.isArray(header) || authorizationLines(raw) > 1) return { kind: 'malformed', reason: 'several Authorization headers' }
  const space = header.indexOf(' ')
  const scheme = space === -1 ? header : header.slice(0, space)
  if (scheme.toLowerCase() !== 'bearer') return { kind: 'none' }
  const token = space === -1 ? '' : header.slice(space + 1).trim()
  if (token === '') return { kind: 'malformed', reason: 'no token' }
  if (!B64TOKEN.test(token)) return { kind: 'malformed', reason: token.includes(' ') || token.includes(',') ? 'several tokens' : 'not a bearer token' }
  return { kind: 'token', token }
}
