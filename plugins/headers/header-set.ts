import type { CspDirectives, CspOptions, FrameAncestorsFor, HeadersOptions, HstsOptions, PermissionsPolicy } from '../../schemas/headers.js'
import {
  DEFAULT_PERMISSIONS,
  hstsValue,
  permissionsPolicyValue,
  referrerPolicyValue,
  reportingEndpointsValue,
  reportUrlProblem,
} from './builders.js'
import { buildCsp, DEFAULT_API_DIRECTIVES, DEFAULT_HTML_DIRECTIVES, NONCE_SLOT } from './csp.js'
import { type DynamicCsp, splitFrameAncestors } from './frame-ancestors.js'
import { headerWriter, type HeaderWriter } from '../../lib/reply-headers.js'

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
  /**
   * Written in onRequest, before the handler runs (so whatever the handler
   * sets replaces them): the list the response most likely needs (the API
   * list under `auto`), plus Cache-Control. onSend only corrects it.
   */
  early: Pair[]
  earlySecure: Pair[]
  /** Write `early` / `earlySecure` in one go (lib/reply-headers.ts). */
  writeEarly: HeaderWriter
  writeEarlySecure: HeaderWriter
  /** HTML CSP headers carrying the per-request nonce: the value is `parts.join(nonce)`. */
  nonced: [name: string, parts: string[]][]
  cacheControl: string | undefined
  remove: string[]
  /** Whether this set's policies carry the per-request nonce, so reading `reply.cspNonce` makes sense. */
  nonce: boolean
  /** Set only where `contentSecurityPolicy.frameAncestorsFor` is: everywhere else the lists above are the whole story. */
  frameAncestors: FrameAncestorsHook | undefined
}

export interface FrameAncestorsHook {
  pick: FrameAncestorsFor
  api: DynamicCsp[]
  html: DynamicCsp[]
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
  /** Headers whose frame-ancestors is picked per request, when the options have frameAncestorsFor. */
  dynamicApi: DynamicCsp[]
  dynamicHtml: DynamicCsp[]
}

function cspHeaders (csp: CspOptions, path: string, problems: string[]): CspHeaders {
  const useDefaults = csp.useDefaults !== false
  const allowUnsafe = csp.allowUnsafe === true
  const nonce = nonceTargets(csp.nonce)
  const perRequest = csp.frameAncestorsFor !== undefined
  const out: CspHeaders = { api: [], html: [], nonced: [], dynamicApi: [], dynamicHtml: [] }

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
  if (perRequest) out.dynamicApi.push(splitFrameAncestors('content-security-policy', apiValue))
  else out.api.push(['content-security-policy', apiValue])

  const add = (name: string, value: string, dynamic: boolean): void => {
    if (dynamic) out.dynamicHtml.push(splitFrameAncestors(name, value))
    else if (value.includes(NONCE_SLOT)) out.nonced.push([name, value.split(NONCE_SLOT)])
    else out.html.push([name, value])
  }
  const enforced: CspDirectives = { ...(useDefaults ? DEFAULT_HTML_DIRECTIVES : {}), ...csp.directives }
  const documentValue = buildCsp(
    enforced,
    {},
    { allowUnsafe, nonce, report, reportOnly: csp.reportOnly === true },
    `${path}.directives`,
    problems
  )
  if (csp.directives === undefined && !useDefaults) {
    problems.push(`${path}.directives: must set a directive when useDefaults is false`)
  }
  add(
    csp.reportOnly === true ? 'content-security-policy-report-only' : 'content-security-policy',
    documentValue,
    perRequest
  )
  if (typeof csp.reportOnly === 'object') {
    const staged = csp.reportOnly
    if (staged.directives?.upgradeInsecureRequests === true) {
      problems.push(
        `${path}.reportOnly.directives.upgradeInsecureRequests: browsers ignore it in a Report-Only policy; set it in directives`
      )
    }
    // Staging a tighter policy means "the enforced one plus these changes";
    // `useDefaults: false` stages exactly the given directives instead.
    const value = buildCsp(
      staged.useDefaults === false ? {} : enforced,
      staged.directives ?? {},
      { allowUnsafe, nonce, report, reportOnly: true },
      `${path}.reportOnly.directives`,
      problems
    )
    add('content-security-policy-report-only', value, false)
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
  let nonce = false
  let frameAncestors: FrameAncestorsHook | undefined
  if (options.contentSecurityPolicy !== false) {
    const csp = cspHeaders(options.contentSecurityPolicy, `${path}.contentSecurityPolicy`, problems)
    api.push(...csp.api)
    html.push(...csp.html)
    nonced = csp.nonced
    nonce = nonceTargets(options.contentSecurityPolicy.nonce).length > 0
    const pick = options.contentSecurityPolicy.frameAncestorsFor
    if (pick !== undefined) frameAncestors = { pick, api: csp.dynamicApi, html: csp.dynamicHtml }
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

  const cacheControl = options.cacheControl === false ? undefined : options.cacheControl
  const withCache = (list: Pair[]): Pair[] => (cacheControl === undefined ? list : [...list, ['cache-control', cacheControl]])
  const htmlFirst = options.profile === 'html'
  const early = withCache(htmlFirst ? html : api)
  const earlySecure = withCache(htmlFirst ? htmlSecure : apiSecure)
  return {
    profile: options.profile,
    checkSecure,
    early,
    earlySecure,
    writeEarly: headerWriter(early),
    writeEarlySecure: headerWriter(earlySecure),
    api,
    apiSecure,
    html,
    htmlSecure,
    nonced,
    cacheControl,
    remove: options.removeHeaders.map((h) => h.toLowerCase()),
    nonce,
    frameAncestors,
  }
}
