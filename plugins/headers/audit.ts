// auditHeaders: what a response lacks, by the advice this suite follows
// (OWASP REST Security and HTTP Headers cheat sheets, MDN, the HTTP
// Observatory's thresholds). For users' own tests:
//   t.same(auditHeaders(await app.inject('/')), [])

export interface AuditFinding {
  header: string
  /** `missing`: absent; `weak`: present but too permissive; `leak`: tells attackers too much. */
  issue: 'missing' | 'weak' | 'leak'
  reason: string
}

export interface AuditOptions {
  /** The response was served over HTTPS, so HSTS is expected. Default: false. */
  secure?: boolean
}

type HeaderBag = Record<string, string | string[] | number | undefined>
interface FetchHeaders {
  get(name: string): string | null
  forEach(fn: (value: string, key: string) => void): void
}
/** A light-my-request or fetch Response, or its headers. */
export type HeaderSource = { headers: HeaderBag | FetchHeaders } | HeaderBag | FetchHeaders

function isFetchHeaders (bag: HeaderBag | FetchHeaders): bag is FetchHeaders {
  return typeof bag.get === 'function' && typeof bag.forEach === 'function'
}

function normalise (source: HeaderSource): Map<string, string> {
  const wrapped = (source as { headers?: unknown }).headers
  const bag = (typeof wrapped === 'object' && wrapped !== null ? wrapped : source) as HeaderBag | FetchHeaders
  const out = new Map<string, string>()
  if (isFetchHeaders(bag)) {
    bag.forEach((value, key) => out.set(key.toLowerCase(), value))
    return out
  }
  for (const [key, value] of Object.entries(bag)) {
    if (value !== undefined) out.set(key.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value))
  }
  return out
}

function directives (policy: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const part of policy.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/)
    if (name !== '' && !out.has(name.toLowerCase())) out.set(name.toLowerCase(), values.map((v) => v.toLowerCase()))
  }
  return out
}

function auditCsp (csp: string | undefined, reportOnly: string | undefined, html: boolean, findings: AuditFinding[]): Map<string, string[]> | undefined {
  if (csp === undefined) {
    findings.push({
      header: 'content-security-policy',
      issue: 'missing',
      reason: reportOnly === undefined ? 'no Content-Security-Policy: injected content can load and run anything' : 'only a Report-Only policy: nothing is enforced',
    })
    return undefined
  }
  const d = directives(csp)
  const scripts = d.get('script-src') ?? d.get('default-src')
  if (scripts === undefined) {
    findings.push({ header: 'content-security-policy', issue: 'weak', reason: 'neither script-src nor default-src: scripts are unrestricted' })
  } else {
    const guarded = scripts.some((s) => s.startsWith("'nonce-") || s.startsWith("'sha") || s === "'strict-dynamic'")
    if (scripts.includes("'unsafe-inline'") && !guarded) {
      findings.push({ header: 'content-security-policy', issue: 'weak', reason: "script policy allows 'unsafe-inline' without a nonce or hash" })
    }
    if (scripts.includes("'unsafe-eval'")) findings.push({ header: 'content-security-policy', issue: 'weak', reason: "script policy allows 'unsafe-eval'" })
    if (scripts.some((s) => s === '*' || s === 'http:' || s === 'https:' || s === 'data:')) {
      findings.push({ header: 'content-security-policy', issue: 'weak', reason: 'script policy allows any host or scheme' })
    }
  }
  const objects = d.get('object-src') ?? d.get('default-src')
  const objectsSafe = objects !== undefined && objects.length === 1 && (objects[0] === "'none'" || objects[0] === "'self'")
  if (!objectsSafe) {
    findings.push({ header: 'content-security-policy', issue: 'weak', reason: "object-src (or default-src) is not 'none' or 'self': plugins can load" })
  }
  if (!html && !(d.get('default-src')?.length === 1 && d.get('default-src')?.[0] === "'none'")) {
    findings.push({ header: 'content-security-policy', issue: 'weak', reason: "an API response should use default-src 'none' (OWASP REST Security)" })
  }
  return d
}

/** Lists what is missing or weak in a response's security headers; an empty list means none. */
export function auditHeaders (response: HeaderSource, options: AuditOptions = {}): AuditFinding[] {
  const h = normalise(response)
  const findings: AuditFinding[] = []
  const html = /^\s*(text\/html|application\/xhtml\+xml)/i.test(String(h.get('content-type')))

  const csp = auditCsp(h.get('content-security-policy'), h.get('content-security-policy-report-only'), html, findings)

  if (options.secure === true) {
    const hsts = h.get('strict-transport-security')
    const maxAge = Number(/max-age=(\d+)/i.exec(hsts ?? '')?.[1] ?? Number.NaN)
    if (hsts === undefined) findings.push({ header: 'strict-transport-security', issue: 'missing', reason: 'no HSTS: the first plain-HTTP request can be intercepted' })
    else if (!(maxAge >= 15_768_000)) findings.push({ header: 'strict-transport-security', issue: 'weak', reason: 'max-age under six months' })
  }

  if (h.get('x-content-type-options')?.toLowerCase() !== 'nosniff') {
    findings.push({ header: 'x-content-type-options', issue: 'missing', reason: 'without nosniff, browsers may run a response as script or style' })
  }

  const xfo = h.get('x-frame-options')?.toUpperCase()
  const ancestors = csp?.get('frame-ancestors')
  if (xfo === undefined && ancestors === undefined) {
    findings.push({ header: 'x-frame-options', issue: 'missing', reason: 'neither X-Frame-Options nor frame-ancestors: the page can be framed (clickjacking)' })
  } else if (xfo !== undefined && xfo !== 'DENY' && xfo !== 'SAMEORIGIN') {
    findings.push({ header: 'x-frame-options', issue: 'weak', reason: 'only DENY and SAMEORIGIN are honoured (ALLOW-FROM is ignored)' })
  }

  const referrer = h.get('referrer-policy')?.toLowerCase()
  if (referrer === undefined) {
    findings.push({ header: 'referrer-policy', issue: 'missing', reason: 'no Referrer-Policy: the browser default decides what URLs leak' })
  } else if (/unsafe-url|no-referrer-when-downgrade/.test(referrer.split(',').pop() as string)) {
    findings.push({ header: 'referrer-policy', issue: 'weak', reason: 'full URLs leak to other origins' })
  }

  const cache = h.get('cache-control')?.toLowerCase()
  if (!html && cache === undefined) {
    findings.push({ header: 'cache-control', issue: 'missing', reason: 'API responses should say no-store unless meant to be cached' })
  }

  if (h.get('cross-origin-opener-policy') === undefined) {
    findings.push({ header: 'cross-origin-opener-policy', issue: 'missing', reason: 'other sites can keep a handle on windows they open' })
  }
  if (h.get('cross-origin-resource-policy') === undefined) {
    findings.push({ header: 'cross-origin-resource-policy', issue: 'missing', reason: 'other sites can embed the response' })
  }
  if (html && h.get('permissions-policy') === undefined) {
    findings.push({ header: 'permissions-policy', issue: 'missing', reason: 'powerful features (camera, geolocation, ...) are not turned off' })
  }

  const xss = h.get('x-xss-protection')
  if (xss !== undefined && xss.trim() !== '0') {
    findings.push({ header: 'x-xss-protection', issue: 'weak', reason: 'only 0 is safe; the auditor that 1 enabled leaked data' })
  }
  for (const leak of ['x-powered-by', 'server', 'x-aspnet-version']) {
    if (h.get(leak) !== undefined) findings.push({ header: leak, issue: 'leak', reason: 'names the software stack' })
  }
  if (h.get('access-control-allow-origin') === '*' && h.get('access-control-allow-credentials') === 'true') {
    findings.push({ header: 'access-control-allow-origin', issue: 'weak', reason: '* with credentials' })
  }
  return findings
}
