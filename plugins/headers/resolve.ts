import { isPlainObject } from '../../lib/copy.js'
import { collectOptions } from '../../lib/options.js'
import { HeadersOptionsSchema } from '../../schemas/headers.js'
import { buildHeaderSet, type HeaderSet, type ResolvedHeadersOptions } from './header-set.js'

/**
 * Settings that once were advice and now do harm get a message that says
 * why and what to use instead, rather than a bare schema mismatch.
 */
function refuseObsolete (input: unknown, path: string, problems: string[]): unknown {
  if (!isPlainObject(input)) return input
  const out = { ...input }
  if (typeof out.frameOptions === 'string' && /^\s*allow-from/i.test(out.frameOptions)) {
    problems.push(
      `${path}.frameOptions: ALLOW-FROM is obsolete and ignored by current browsers; use contentSecurityPolicy.directives.frameAncestors`
    )
    delete out.frameOptions
  }
  if (out.xssProtection === '0') out.xssProtection = true
  if (out.xssProtection !== undefined && typeof out.xssProtection !== 'boolean') {
    problems.push(
      `${path}.xssProtection: X-XSS-Protection: 1 enabled an auditor that leaked data and is gone from browsers; only 0 is safe (set true to send 0, false to omit)`
    )
    delete out.xssProtection
  }
  if ('featurePolicy' in out) {
    problems.push(`${path}.featurePolicy: Feature-Policy is obsolete; use permissionsPolicy`)
    delete out.featurePolicy
  }
  return out
}

/** Options in (raw, from the user), ready header set out; faults are pushed onto `problems`. */
export function resolveHeaderSet (input: unknown, path: string, problems: string[]): HeaderSet | undefined {
  const cleaned = refuseObsolete(input, path, problems)
  const before = problems.length
  const options = collectOptions<ResolvedHeadersOptions>(HeadersOptionsSchema, cleaned, path, problems)
  // Building from options that failed the schema would only add noise.
  if (problems.length > before) return undefined
  return buildHeaderSet(options, path, problems)
}
