import type { CspOptions, HeadersOptions, HstsOptions, PermissionsPolicy } from '../../schemas/headers.js'
import {
  DEFAULT_PERMISSIONS,
  hstsValue,
  permissionsPolicyValue,
  referrerPolicyValue,
  reportingEndpointsValue,
  reportUrlProblem,
} from './builders.js'
import { buildCsp, DEFAULT_API_DIRECTIVES, DEFAULT_HTML_DIRECTIVES, NONCE_SLOT } from './csp.js'

export type Pair = readonly [name: string, value: string]

/**
 * Everything the per-request hook needs, computed once per plugin and once
 * per route with its own config: four ready header lists (API or HTML
 * response, secure request or not) and the few conditional extras.
 */
export interface HeaderSet {
  profile: 'auto' | 'api' | 'html'
  /** False when the secure and plain lists are equal, so the hook skips `request.protocol`. */
  checkSecure: boolean
  api: Pair[]
  apiSecure: Pair[]
  html: Pair[]
  htmlSecure: Pair[]
  /** HTML CSP headers carrying the per-request nonce: the value is `parts.join(nonce)`. */
  nonced: [name: string, parts: string[]][]
  cacheControl: string | undefined
  remove: string[]
}

export type ResolvedHeadersOptions = Required<HeadersOptions>

function nonceTargets (nonce: CspOptions['nonce']): ('scriptSrc' | 'styleSrc')[] {
  if (nonce === true) return ['scriptSrc', 'styleSrc']
  if (Array.isArray(nonce)) return [...new Set(nonce)]
  return []
}

interface CspHeaders {
  api: Pair[]
  html: Pair[]
  nonced: [string, string[]][]
}

function cspHeaders (csp: CspOptions, path: string, problems: string[]): CspHeaders {
  const useDefaults = csp.useDefaults !== false
  const allowUnsafe = csp.allowUnsafe === true
  const nonce = nonceTargets(csp.nonce)
  const out: CspHeaders = { api: [], html: [], nonced: [] }

  let report: { group: string; url: string } | undefined
  if (csp.reportTo !== undefined) {
    const group = csp.reportTo.group as string
    const problem = reportUrlProblem(csp.reportTo.url)
    if (problem !== undefined) problems.push(`${path}.reportTo.url: ${problem}`)
    report = { group, url: csp.reportTo.url }
    out.html.push(['reporting-endpoints', reportingEndpointsValue(group, csp.reportTo.url)])
  }

  const apiValue = buildCsp(
    useDefaults ? DEFAULT_API_DIRECTIVES : {},
    csp.apiDirectives ?? {},
    { allowUnsafe, nonce: [] },
    `${path}.apiDirectives`,
    problems
  )
  if (apiValue === '') problems.push(`${path}.apiDirectives: must set a directive when useDefaults is false`)
  out.api.push(['content-security-policy', apiValue])

  const add = (name: string, value: string): void => {
    if (value.includes(NONCE_SLOT)) out.nonced.push([name, value.split(NONCE_SLOT)])
    else out.html.push([name, value])
  }
  const documentValue = buildCsp(
    useDefaults ? DEFAULT_HTML_DIRECTIVES : {},
    csp.directives ?? {},
    { allowUnsafe, nonce, report },
    `${path}.directives`,
    problems
  )
  if (csp.directives === undefined && !useDefaults) {
    problems.push(`${path}.directives: must set a directive when useDefaults is false`)
  }
  add(
    csp.reportOnly === true ? 'content-security-policy-report-only' : 'content-security-policy',
    documentValue
  )
  if (typeof csp.reportOnly === 'object') {
    const staged = buildCsp(
      (csp.reportOnly.useDefaults ?? useDefaults) ? DEFAULT_HTML_DIRECTIVES : {},
      csp.reportOnly.directives ?? {},
      { allowUnsafe, nonce, report },
      `${path}.reportOnly.directives`,
      problems
    )
    add('content-security-policy-report-only', staged)
  }
  return out
}

/** Composes every header from resolved (defaulted) options. */
export function buildHeaderSet (options: ResolvedHeadersOptions, path: string, problems: string[]): HeaderSet {
  const common: Pair[] = []
  if (options.contentTypeOptions) common.push(['x-content-type-options', 'nosniff'])
  if (options.frameOptions !== false) common.push(['x-frame-options', options.frameOptions])
  if (options.crossOriginOpenerPolicy !== false) {
    common.push(['cross-origin-opener-policy', options.crossOriginOpenerPolicy])
  }
  if (options.crossOriginResourcePolicy !== false) {
    common.push(['cross-origin-resource-policy', options.crossOriginResourcePolicy])
  }
  if (options.crossOriginEmbedderPolicy !== false) {
    common.push(['cross-origin-embedder-policy', options.crossOriginEmbedderPolicy])
  }
  if (options.permittedCrossDomainPolicies !== false) {
    common.push(['x-permitted-cross-domain-policies', options.permittedCrossDomainPolicies])
  }
  if (options.dnsPrefetchControl !== false) { common.push(['x-dns-prefetch-control', options.dnsPrefetchControl]) }
  if (options.xssProtection) common.push(['x-xss-protection', '0'])

  const api: Pair[] = [...common]
  const html: Pair[] = [...common]
  const referrer = options.referrerPolicy as HeadersOptions['referrerPolicy']
  if (referrer !== false) {
    api.push(['referrer-policy', referrerPolicyValue(referrer ?? 'no-referrer')])
    html.push(['referrer-policy', referrerPolicyValue(referrer ?? 'strict-origin-when-cross-origin')])
  }
  if (options.permissionsPolicy !== false) {
    const policy: PermissionsPolicy = { ...DEFAULT_PERMISSIONS, ...options.permissionsPolicy }
    html.push(['permissions-policy', permissionsPolicyValue(policy, `${path}.permissionsPolicy`, problems)])
  }
  let nonced: [string, string[]][] = []
  if (options.contentSecurityPolicy !== false) {
    const csp = cspHeaders(options.contentSecurityPolicy, `${path}.contentSecurityPolicy`, problems)
    api.push(...csp.api)
    html.push(...csp.html)
    nonced = csp.nonced
  }

  let apiSecure = api
  let htmlSecure = html
  let checkSecure = false
  if (options.hsts !== false) {
    const hsts = options.hsts as Required<HstsOptions>
    const pair: Pair = ['strict-transport-security', hstsValue(hsts, `${path}.hsts`, problems)]
    apiSecure = [...api, pair]
    htmlSecure = [...html, pair]
    if (hsts.force) {
      api.push(pair)
      html.push(pair)
    } else {
      checkSecure = true
    }
  }

  return {
    profile: options.profile,
    checkSecure,
    api,
    apiSecure,
    html,
    htmlSecure,
    nonced,
    cacheControl: options.cacheControl === false ? undefined : options.cacheControl,
    remove: options.removeHeaders.map((h) => h.toLowerCase()),
  }
}
