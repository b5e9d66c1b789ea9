import { invalidOptions } from '../lib/errors.js'
import { collectOptions } from '../lib/options.js'
import {
  type RedirectUriMatcherOptions,
  RedirectUriMatcherOptionsSchema,
  RegisteredRedirectUrisSchema,
} from '../schemas/oauth.js'

/**
 * Exact redirect-URI matching (RFC 9700 §2.1, §4.1.3): the URI a client sends
 * must equal a registered one byte for byte. No case folding, trailing-slash,
 * default-port or percent-decoding normalisation: each one has let an
 * attacker's URI through somewhere (`startsWith` lets
 * `https://app.example.com.attacker.com` match). The one exception is RFC
 * 8252 §7.3, for native apps only: a loopback `http` registration matches any
 * port, because the app listens on whatever port the OS gives it.
 */
export type RedirectUriMatcher = (uri: unknown) => boolean

// Loopback as the registration spells it; hosts are compared as written,
// so `http://LOCALHOST/` is not loopback here (and is refused as non-https).
const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::([0-9]{1,5}))?(?=[/?]|$)/
const PORT = /^[1-9][0-9]{0,4}$/

function problemsOf (uri: string, path: string): string[] {
  const out: string[] = []
  // eslint-disable-next-line no-control-regex -- control characters are what we refuse
  if (/[\s\u0000-\u001f\u007f]/.test(uri)) out.push(`${path}: must not contain spaces or control characters`)
  if (uri.includes('*')) out.push(`${path}: must not contain a wildcard (*): redirect URIs are compared exactly`)
  if (uri.includes('#')) out.push(`${path}: must not contain a fragment (#) (RFC 6749 §3.1.2)`)
  try {
    // eslint-disable-next-line no-new -- parsing is the check
    new URL(uri)
  } catch {
    out.push(`${path}: must be an absolute URI`)
    return out
  }
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(uri)?.[1] ?? ''
  if (authority.includes('@')) out.push(`${path}: must not contain userinfo (user@host)`)
  if (!uri.startsWith('https://') && !LOOPBACK.test(uri)) {
    out.push(`${path}: must be https, or http on a loopback host (http://127.0.0.1, http://[::1], http://localhost)`)
  } else if (authority === '') {
    // new URL() would read `https:///cb` as host `cb`: refuse, never repair.
    out.push(`${path}: must have a host`)
  }
  return out
}

interface Loopback {
  /** `http://127.0.0.1`, as registered. */
  origin: string
  /** Everything after the host and port: path and query, compared exactly. */
  rest: string
}

function loopbackOf (uri: string): Loopback | undefined {
  const match = LOOPBACK.exec(uri)
  if (match === null) return undefined
  return { origin: `http://${match[1]}`, rest: uri.slice(match[0].length) }
}

function portMatches (uri: string, entry: Loopback): boolean {
  if (!uri.startsWith(entry.origin)) return false
  let rest = uri.slice(entry.origin.length)
  if (rest.startsWith(':')) {
    const end = rest.search(/[/?]|$/)
    const port = rest.slice(1, end)
    if (!PORT.test(port) || Number(port) > 65535) return false
    rest = rest.slice(end)
  }
  return rest === entry.rest
}

/**
 * Builds the matcher for a client's registered redirect URIs. Throws
 * FST_RAMPART_INVALID_OPTIONS listing every problem when a registration has
 * a wildcard, a fragment, userinfo, or is not https (loopback http aside).
 */
export function createRedirectUriMatcher (registered: string | string[], options?: RedirectUriMatcherOptions): RedirectUriMatcher {
  const problems: string[] = []
  const list = collectOptions<string | string[]>(RegisteredRedirectUrisSchema, registered, 'redirectUris', problems)
  const { native } = collectOptions<Required<RedirectUriMatcherOptions>>(RedirectUriMatcherOptionsSchema, options, 'options', problems)
  const uris = problems.length === 0 ? (typeof list === 'string' ? [list] : list) : []
  uris.forEach((uri, i) => problems.push(...problemsOf(uri, typeof list === 'string' ? 'redirectUris' : `redirectUris[${i}]`)))
  if (problems.length > 0) throw invalidOptions(problems)

  const exact = new Set(uris)
  const loopbacks = native ? uris.map(loopbackOf).filter((l) => l !== undefined) : []
  return function matchRedirectUri (uri: unknown): boolean {
    if (typeof uri !== 'string') return false
    if (exact.has(uri)) return true
    for (const entry of loopbacks) if (portMatches(uri, entry)) return true
    return false
  }
}
