import { InvalidSpiffeIdError } from '../../lib/errors.js'

// A hand port of go-spiffe's `spiffeid` parser (spiffeid/id.go, charset.go):
// Node has no SPIFFE SDK, and WHATWG URL normalises (case, percent-encoding,
// dot segments, default ports), which is exactly what the SPIFFE-ID standard
// forbids: an ID is accepted only if it is already in canonical form.
// https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md

const SCHEME = 'spiffe://'
/** SPIFFE-ID standard, 2.3: URIs are at most 2048 bytes. */
export const MAX_SPIFFE_ID_BYTES = 2048

/** A parsed SPIFFE ID: compare its parts, never its string against a substring. */
export class SpiffeId {
  readonly trustDomain: string
  /** `''` for the trust domain's root ID, else `/seg/seg`. */
  readonly path: string

  /** Use `parseSpiffeId`; the constructor trusts its input. */
  private constructor (trustDomain: string, path: string) {
    this.trustDomain = trustDomain
    this.path = path
    Object.freeze(this)
  }

  /** @internal */
  static unchecked (trustDomain: string, path: string): SpiffeId {
    return new SpiffeId(trustDomain, path)
  }

  /** True when both trust domain and path are equal. */
  equals (other: SpiffeId): boolean {
    return this.trustDomain === other.trustDomain && this.path === other.path
  }

  /** True when the ID belongs to `trustDomain` (the whole name, never a suffix). */
  memberOf (trustDomain: string): boolean {
    return this.trustDomain === trustDomain
  }

  toString (): string {
    return `${SCHEME}${this.trustDomain}${this.path}`
  }
}

function isTrustDomainChar (c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x5f
}

function isPathChar (c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || isTrustDomainChar(c)
}

const TRUST_DOMAIN_CHARS = 'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores'

/** Why `name` is not a valid trust domain name, or undefined when it is. */
export function trustDomainProblem (name: string): string | undefined {
  if (name === '') return 'trust domain is missing'
  for (let i = 0; i < name.length; i++) {
    if (!isTrustDomainChar(name.charCodeAt(i))) return TRUST_DOMAIN_CHARS
  }
  return undefined
}

/** Why `path` is not a valid SPIFFE ID path (`''` or `/seg...`), or undefined when it is. */
function pathProblem (path: string): string | undefined {
  let start = 0
  for (let i = 1; i <= path.length; i++) {
    if (i < path.length && path.charCodeAt(i) !== 0x2f) {
      if (!isPathChar(path.charCodeAt(i))) return 'path segment characters are limited to letters, numbers, dots, dashes, and underscores'
      continue
    }
    const segment = path.slice(start + 1, i)
    if (segment === '') return i === path.length ? 'path cannot have a trailing slash' : 'path cannot contain empty segments'
    if (segment === '.' || segment === '..') return 'path cannot contain dot segments'
    start = i
  }
  return undefined
}

/**
 * Parses `input` strictly, returning the ID or the reason it is refused
 * (for callers on a hot path that must not throw).
 */
export function checkSpiffeId (input: string): SpiffeId | string {
  if (input === '') return 'cannot be empty'
  // Every valid character is ASCII, so the string length is the byte length;
  // anything longer fails here or on a character rule below.
  if (input.length > MAX_SPIFFE_ID_BYTES) return `is longer than ${MAX_SPIFFE_ID_BYTES} bytes`
  if (!input.startsWith(SCHEME)) return 'scheme is missing or invalid (must be lowercase spiffe://)'
  const slash = input.indexOf('/', SCHEME.length)
  const trustDomain = slash === -1 ? input.slice(SCHEME.length) : input.slice(SCHEME.length, slash)
  const path = slash === -1 ? '' : input.slice(slash)
  const problem = trustDomainProblem(trustDomain) ?? pathProblem(path)
  return problem ?? SpiffeId.unchecked(trustDomain, path)
}

/**
 * Parses a SPIFFE ID exactly as the standard writes it and rejects anything
 * else (uppercase scheme or trust domain, ports, userinfo, percent-encoding,
 * empty / `.` / `..` segments, a trailing `/`, query, fragment, over 2048
 * bytes). Throws `FST_RAMPART_INVALID_SPIFFE_ID`.
 */
export function parseSpiffeId (input: string): SpiffeId {
  if (typeof input !== 'string') throw new InvalidSpiffeIdError('must be a string')
  const id = checkSpiffeId(input)
  if (typeof id === 'string') throw new InvalidSpiffeIdError(id)
  return id
}
