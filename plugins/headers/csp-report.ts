import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { toMs } from '../../lib/duration.js'
import { CspReportInvalidError } from '../../lib/errors.js'
import { createLogLimiter } from '../../lib/log-limiter.js'
import { checkOptions } from '../../lib/options.js'
import { type CspReportOptions, CspReportOptionsSchema } from '../../schemas/headers.js'

// A collector for CSP violation reports: the two report formats browsers
// send, a small body limit, and logging that a flood of reports (any page
// can send them) cannot turn into a flood of log lines.

/** Most reports of one request put in the log line; the rest are only counted. */
const MAX_LOGGED = 10
/** Report fields are page URLs and script names: enough to find the fault, never a log-sized blob. */
const MAX_FIELD = 256

/** One violation, the fields both formats share, under the Reporting API's names. */
export interface CspViolation {
  documentURL?: string
  blockedURL?: string
  effectiveDirective?: string
  disposition?: string
  sourceFile?: string
  lineNumber?: number
  statusCode?: number
}

type Resolved = Required<CspReportOptions>

function text (value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, MAX_FIELD) : undefined
}

function integer (value: unknown): number | undefined {
  return Number.isSafeInteger(value) ? (value as number) : undefined
}

function violation (fields: Record<string, unknown>, names: Record<keyof CspViolation, string>): CspViolation {
  return {
    documentURL: text(fields[names.documentURL]),
    blockedURL: text(fields[names.blockedURL]),
    effectiveDirective: text(fields[names.effectiveDirective]),
    disposition: text(fields[names.disposition]),
    sourceFile: text(fields[names.sourceFile]),
    lineNumber: integer(fields[names.lineNumber]),
    statusCode: integer(fields[names.statusCode]),
  }
}

const LEVEL2_NAMES = {
  documentURL: 'document-uri',
  blockedURL: 'blocked-uri',
  effectiveDirective: 'effective-directive',
  disposition: 'disposition',
  sourceFile: 'source-file',
  lineNumber: 'line-number',
  statusCode: 'status-code',
}
const REPORTING_NAMES = {
  documentURL: 'documentURL',
  blockedURL: 'blockedURL',
  effectiveDirective: 'effectiveDirective',
  disposition: 'disposition',
  sourceFile: 'sourceFile',
  lineNumber: 'lineNumber',
  statusCode: 'statusCode',
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The violations in a parsed body, or undefined when it is neither format:
 * `{ "csp-report": {...} }` (CSP Level 2, `application/csp-report`) or a
 * list of reports (Reporting API, `application/reports+json`), of which only
 * `csp-violation` entries count.
 */
export function violationsOf (body: unknown): CspViolation[] | undefined {
  if (isObject(body)) {
    const report = body['csp-report']
    return isObject(report) ? [violation(report, LEVEL2_NAMES)] : undefined
  }
  if (!Array.isArray(body)) return undefined
  const out: CspViolation[] = []
  for (const entry of body) {
    if (!isObject(entry)) return undefined
    if (entry.type === 'csp-violation' && isObject(entry.body)) out.push(violation(entry.body, REPORTING_NAMES))
  }
  return out
}

function parseReport (_request: FastifyRequest, body: string, done: (err: Error | null, body?: unknown) => void): void {
  try {
    done(null, JSON.parse(body))
  } catch {
    done(new CspReportInvalidError())
  }
}

/**
 * Registers `POST <path>` that accepts CSP violation reports and logs them.
 * Not wrapped in fastify-plugin on purpose: its content-type parsers stay
 * in its own scope instead of changing how the whole app parses bodies.
 */
export async function cspReportPlugin (fastify: FastifyInstance, options: CspReportOptions): Promise<void> {
  const opts = checkOptions<Resolved>(CspReportOptionsSchema, options, 'cspReport')
  const limiter = createLogLimiter(toMs(opts.logInterval))
  const level = opts.level

  fastify.addContentTypeParser(
    ['application/csp-report', 'application/reports+json'],
    { parseAs: 'string', bodyLimit: opts.bodyLimit },
    parseReport
  )

  fastify.post(opts.path, { bodyLimit: opts.bodyLimit }, async function rampartCspReport (request: FastifyRequest, reply: FastifyReply) {
    const violations = violationsOf(request.body)
    if (violations === undefined) throw new CspReportInvalidError()
    if (violations.length > 0) {
      const suppressed = limiter.take()
      if (suppressed >= 0) {
        request.log[level](
          { cspViolations: violations.slice(0, MAX_LOGGED), count: violations.length, suppressed },
          'fastify-rampart: CSP violation report'
        )
      }
    }
    return reply.code(204).send()
  })
}
Object.defineProperty(cspReportPlugin, Symbol.for('fastify.display-name'), { value: 'fastify-rampart-csp-report' })

/** `app.register(cspReportPlugin, options)`, for `await cspReportRoute(app, { path: '/csp-reports' })`. */
export function cspReportRoute (app: FastifyInstance, options: CspReportOptions = {}): ReturnType<FastifyInstance['register']> {
  return app.register(cspReportPlugin, options)
}
