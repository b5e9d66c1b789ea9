import type { CspDirectives } from '../../schemas/headers.js'

// Content-Security-Policy builder: options in, header value out, every
// value checked against CSP Level 3's grammar so a typo cannot silently
// weaken (or break) the policy. https://www.w3.org/TR/CSP3/

/** The document policy sent on HTML responses when the user adds nothing. */
export const DEFAULT_HTML_DIRECTIVES: CspDirectives = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  objectSrc: ["'none'"],
  frameAncestors: ["'none'"],
  upgradeInsecureRequests: true,
}

/** OWASP REST Security Cheat Sheet: an API response should never render or be framed. */
export const DEFAULT_API_DIRECTIVES: CspDirectives = {
  defaultSrc: ["'none'"],
  frameAncestors: ["'none'"],
}

/** Stands where the per-request nonce goes; split on it to build the header fast. */
export const NONCE_SLOT = '\u0000nonce\u0000'

const KEYWORDS = new Set([
  "'self'",
  "'none'",
  "'unsafe-inline'",
  "'unsafe-eval'",
  "'strict-dynamic'",
  "'unsafe-hashes'",
  "'report-sample'",
  "'wasm-unsafe-eval'",
  "'inline-speculation-rules'",
])
const UNSAFE = new Set(["'unsafe-inline'", "'unsafe-eval'"])
const SCRIPT_DIRECTIVES = new Set(['scriptSrc', 'scriptSrcElem', 'scriptSrcAttr'])
// Directives that say where script files may come from (script-src-attr only governs inline handlers).
const SCRIPT_LOAD_DIRECTIVES = new Set(['scriptSrc', 'scriptSrcElem'])
// Any host, or any URL of a scheme an attacker can fill (data:, blob:): a
// script policy with one of these stops no injected <script src>.
const ANY_SCRIPT_SOURCE = new Set(['*', 'data:', 'https:', 'http:', 'blob:'])
// A host source whose host is a bare `*` (https://*, *:443) is as open as its scheme.
const ANY_HOST_SOURCE = /^(?:[a-z][a-z0-9+.-]*:\/\/)?\*(?:[:/]|$)/i
const HASH_LENGTH: Record<string, number> = { sha256: 44, sha384: 64, sha512: 88 }
// frame-ancestors, base-uri-like navigation directives take no hashes, nonces or script keywords.
const ANCESTOR_KEYWORDS = new Set(["'self'", "'none'"])
const SANDBOX_TOKENS = new Set([
  'allow-downloads',
  'allow-forms',
  'allow-modals',
  'allow-orientation-lock',
  'allow-pointer-lock',
  'allow-popups',
  'allow-popups-to-escape-sandbox',
  'allow-presentation',
  'allow-same-origin',
  'allow-scripts',
  'allow-storage-access-by-user-activation',
  'allow-top-navigation',
  'allow-top-navigation-by-user-activation',
  'allow-top-navigation-to-custom-protocols',
])
const SCHEME_SOURCE = /^[a-z][a-z0-9+.-]*:$/i
// scheme://host:port/path with an optional leading "*." on the host; no whitespace, ";" or ",".
const HOST_SOURCE =
  /^(?:[a-z][a-z0-9+.-]*:\/\/)?(?:\*|(?:\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)(?::(?:[0-9]{1,5}|\*))?(?:\/[^\s;,'"]*)?$/i
const POLICY_NAME = /^[a-zA-Z0-9\-#=_/@.%]+$/

/** camelCase option key → wire directive name. */
export function directiveName (key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
}

function checkSource (
  key: string,
  source: string,
  allowUnsafe: boolean,
  where: string,
  problems: string[]
): void {
  if (/[;,\r\n]/.test(source)) {
    problems.push(`${where}: must not contain ";", "," or a line break`)
    return
  }
  const lower = source.toLowerCase()
  if (KEYWORDS.has(`'${lower}'`)) {
    problems.push(`${where}: the keyword must be quoted ('${lower}'); unquoted it names a host`)
    return
  }
  if (source.startsWith("'")) {
    if (key === 'frameAncestors' && !ANCESTOR_KEYWORDS.has(lower)) {
      problems.push(`${where}: frame-ancestors accepts only 'self', 'none', schemes and hosts`)
    } else if (KEYWORDS.has(lower)) {
      if (UNSAFE.has(lower) && SCRIPT_DIRECTIVES.has(key) && !allowUnsafe) {
        problems.push(
          `${where}: ${lower} in a script policy allows XSS; set contentSecurityPolicy.allowUnsafe to opt in`
        )
      }
    } else if (/^'nonce-/i.test(source)) {
      problems.push(
        `${where}: a fixed nonce defeats its purpose; set contentSecurityPolicy.nonce for per-request nonces`
      )
    } else {
      checkHash(source, where, problems)
    }
    return
  }
  if (!SCHEME_SOURCE.test(source) && !HOST_SOURCE.test(source)) {
    problems.push(`${where}: must be a quoted keyword, a hash, a scheme (https:) or a host source`)
  } else if (SCRIPT_LOAD_DIRECTIVES.has(key) && !allowUnsafe && anyScriptSource(lower)) {
    problems.push(`${where}: ${anyScriptMessage(source)}`)
  }
}

/** True for a source that lets scripts load from any host (`*`, `https:`, `https://*`) or from `data:` / `blob:` URLs. */
export function anyScriptSource (lower: string): boolean {
  return ANY_SCRIPT_SOURCE.has(lower) || ANY_HOST_SOURCE.test(lower)
}

function anyScriptMessage (source: string): string {
  return `${source} in a script policy lets injected markup load any script; list the script hosts, or set contentSecurityPolicy.allowUnsafe to opt in`
}

/** One frame-ancestors source from a per-request hook, checked as a configured one would be. */
export function validFrameAncestor (source: unknown): boolean {
  if (typeof source !== 'string' || source.length === 0 || source.length > 253) return false
  const problems: string[] = []
  checkSource('frameAncestors', source, false, '', problems)
  return problems.length === 0
}

function checkHash (source: string, where: string, problems: string[]): void {
  const match = /^'(sha256|sha384|sha512)-([A-Za-z0-9+/_-]+={0,2})'$/.exec(source)
  if (match === null) {
    problems.push(`${where}: unknown quoted source; expected a keyword or 'sha256-<base64>'`)
  } else if (match[2].length !== HASH_LENGTH[match[1]]) {
    problems.push(`${where}: ${match[1]} hash must be ${HASH_LENGTH[match[1]]} base64 characters`)
  }
}

function checkDirective (
  key: string,
  tokens: string[],
  allowUnsafe: boolean,
  where: string,
  problems: string[]
): void {
  if (key === 'sandbox') {
    tokens.forEach((t, i) => {
      if (!SANDBOX_TOKENS.has(t)) problems.push(`${where}[${i}]: is not a sandbox keyword`)
    })
  } else if (key === 'trustedTypes') {
    tokens.forEach((t, i) => {
      if (!POLICY_NAME.test(t) && t !== "'allow-duplicates'" && t !== "'none'") {
        problems.push(`${where}[${i}]: must be a policy name, 'allow-duplicates' or 'none'`)
      }
    })
  } else if (key !== 'requireTrustedTypesFor') {
    if (tokens.length === 0) problems.push(`${where}: must not be empty (use ["'none'"])`)
    if (tokens.length > 1 && tokens.some((t) => t.toLowerCase() === "'none'")) {
      problems.push(`${where}: 'none' must be the only source`)
    }
    tokens.forEach((t, i) => {
      checkSource(key, t, allowUnsafe, `${where}[${i}]`, problems)
    })
  }
}

export interface CspBuildOptions {
  allowUnsafe: boolean
  /** Directives that get the per-request nonce slot. */
  nonce: ReadonlyArray<'scriptSrc' | 'styleSrc'>
  /** Adds `report-to <group>; report-uri <url>`. */
  report?: { group: string; url: string } | undefined
  /** A Report-Only policy: `upgrade-insecure-requests` is left out (browsers ignore it there, with a console warning). */
  reportOnly?: boolean
}

/**
 * Merges `directives` over `defaults` (a `false` value removes a directive),
 * validates every token and renders the header value. Nonce slots are
 * `NONCE_SLOT`; the caller splits on it once, at registration.
 */
export function buildCsp (
  defaults: CspDirectives,
  directives: CspDirectives,
  options: CspBuildOptions,
  path: string,
  problems: string[]
): string {
  const merged: Record<string, string[] | boolean | undefined> = { ...defaults, ...directives }
  for (const [key, value] of Object.entries(merged)) {
    if (Array.isArray(value)) checkDirective(key, value, options.allowUnsafe, `${path}.${key}`, problems)
  }
  const defaultSrc = merged.defaultSrc
  if (merged.scriptSrc === undefined && Array.isArray(defaultSrc) && !options.allowUnsafe) {
    // default-src governs scripts when script-src is absent.
    if (defaultSrc.some((t) => UNSAFE.has(t.toLowerCase()))) {
      problems.push(
        `${path}.defaultSrc: 'unsafe-inline' and 'unsafe-eval' apply to scripts while scriptSrc is unset; set allowUnsafe to opt in`
      )
    }
    const open = defaultSrc.find((t) => anyScriptSource(t.toLowerCase()))
    if (open !== undefined) {
      problems.push(`${path}.defaultSrc: applies to scripts while scriptSrc is unset: ${anyScriptMessage(open)}`)
    }
  }
  for (const key of options.nonce) {
    const own = merged[key] ?? defaultSrc
    const base = Array.isArray(own) ? own.filter((t) => t.toLowerCase() !== "'none'") : []
    // CSP2+ browsers ignore 'unsafe-inline' beside a nonce, so inline styles
    // would silently break. (Scripts keep it under allowUnsafe: the strict
    // policy's fallback for CSP1 browsers, https://web.dev/articles/strict-csp.)
    if (key === 'styleSrc' && base.some((t) => t.toLowerCase() === "'unsafe-inline'")) {
      problems.push(
        `${path}.${merged[key] === undefined ? 'defaultSrc' : key}: 'unsafe-inline' is ignored by browsers in a directive that carries a nonce; for pages with inline styles, set nonce: ['scriptSrc']`
      )
    }
    merged[key] = [...base, `'nonce-${NONCE_SLOT}'`]
  }
  if (options.reportOnly === true) delete merged.upgradeInsecureRequests
  const parts: string[] = []
  for (const [key, value] of Object.entries(merged)) {
    if (value === true) parts.push(directiveName(key))
    else if (Array.isArray(value)) { parts.push(value.length === 0 ? directiveName(key) : `${directiveName(key)} ${value.join(' ')}`) }
  }
  if (options.report !== undefined) { parts.push(`report-to ${options.report.group}`, `report-uri ${options.report.url}`) }
  return parts.join('; ')
}
