import Fastify from 'fastify'
import t from 'tap'
import { cspReportPlugin, cspReportRoute, securityPlugin } from '../../index.js'
import { violationsOf } from '../../plugins/headers/csp-report.js'
import { captureLogs, caught, makeApp } from '../helpers.js'

const LEVEL2 = {
  'csp-report': {
    'document-uri': 'https://app.example.com/page',
    'blocked-uri': 'https://evil.example/x.js',
    'effective-directive': 'script-src-elem',
    'violated-directive': 'script-src-elem',
    disposition: 'enforce',
    'source-file': 'https://app.example.com/page',
    'line-number': 12,
    'status-code': 200,
    'original-policy': "default-src 'self'",
  },
}
const REPORTING = [
  {
    type: 'csp-violation',
    age: 10,
    url: 'https://app.example.com/page',
    body: { documentURL: 'https://app.example.com/page', blockedURL: 'inline', effectiveDirective: 'style-src-elem', disposition: 'report', lineNumber: 3.5 },
  },
  { type: 'deprecation', body: { id: 'x' } },
]

t.test('cspReportRoute collects both report formats, answers 204 and logs them', async (t) => {
  const { stream, lines } = captureLogs()
  const app = makeApp(t, { logger: { stream, level: 'info' } })
  await app.register(securityPlugin, { rateLimit: false })
  await cspReportRoute(app, { path: '/csp', logInterval: '1s' })
  const level2 = await app.inject({ method: 'POST', url: '/csp', headers: { 'content-type': 'application/csp-report' }, payload: JSON.stringify(LEVEL2) })
  t.equal(level2.statusCode, 204)
  t.equal(level2.headers['x-content-type-options'], 'nosniff', 'the suite headers still apply')
  const reports = lines.filter((l) => l.msg === 'fastify-rampart: CSP violation report')
  t.same(reports.map(({ level, cspViolations, count, suppressed }) => ({ level, cspViolations, count, suppressed })), [
    {
      level: 40,
      cspViolations: [{ documentURL: 'https://app.example.com/page', blockedURL: 'https://evil.example/x.js', effectiveDirective: 'script-src-elem', disposition: 'enforce', sourceFile: 'https://app.example.com/page', lineNumber: 12, statusCode: 200 }],
      count: 1,
      suppressed: 0,
    },
  ])
})

t.test('reports are logged at most once per logInterval, counting the rest', async (t) => {
  const { stream, lines } = captureLogs()
  let now = 1_000_000
  t.teardown(() => { Date.now = real })
  const real = Date.now
  Date.now = () => now
  const app = makeApp(t, { logger: { stream, level: 'info' } })
  await app.register(cspReportPlugin, { level: 'info' })
  const send = () => app.inject({ method: 'POST', url: '/csp-reports', headers: { 'content-type': 'application/reports+json' }, payload: JSON.stringify(REPORTING) })
  for (let i = 0; i < 5; i++) t.equal((await send()).statusCode, 204)
  now += 10_000
  await send()
  const reports = lines.filter((l) => l.msg === 'fastify-rampart: CSP violation report')
  t.same(reports.map((l) => [l.level, l.suppressed, l.count]), [[30, 0, 1], [30, 4, 1]])
  t.same(reports[0].cspViolations, [{ documentURL: 'https://app.example.com/page', blockedURL: 'inline', effectiveDirective: 'style-src-elem', disposition: 'report' }], 'non-integer line numbers dropped')
})

t.test('bad bodies get 4xx, never a 500, and large bodies 413', async (t) => {
  const app = makeApp(t)
  await app.register(cspReportPlugin, { bodyLimit: 1024 })
  const post = (type: string, payload: string) => app.inject({ method: 'POST', url: '/csp-reports', headers: { 'content-type': type }, payload })
  const notJson = await post('application/csp-report', '{nope')
  t.equal(notJson.statusCode, 400)
  t.same(notJson.json(), { statusCode: 400, code: 'FST_RAMPART_CSP_REPORT_INVALID', error: 'Bad Request', message: 'Invalid CSP report' })
  t.equal((await post('application/csp-report', '{"other":1}')).statusCode, 400)
  t.equal((await post('application/reports+json', '[1]')).statusCode, 400)
  t.equal((await post('application/reports+json', '"x"')).statusCode, 400)
  t.equal((await post('application/reports+json', '[]')).statusCode, 204, 'nothing to log')
  t.equal((await post('application/csp-report', JSON.stringify({ 'csp-report': { x: 'y'.repeat(2000) } }))).statusCode, 413)
  t.equal((await post('text/plain', 'x')).statusCode, 400)
  t.equal((await post('application/xml', '<x/>')).statusCode, 415)
  t.equal((await app.inject({ method: 'GET', url: '/csp-reports' })).statusCode, 404)
})

t.test('the report parsers stay in the collector scope', async (t) => {
  const app = makeApp(t)
  await cspReportRoute(app)
  app.post('/other', async () => ({ ok: true }))
  t.equal((await app.inject({ method: 'POST', url: '/other', headers: { 'content-type': 'application/csp-report' }, payload: '{}' })).statusCode, 415)
  t.equal(app.hasContentTypeParser('application/csp-report'), false)
})

t.test('long fields are cut, and report options are checked', async (t) => {
  const [v] = violationsOf({ 'csp-report': { 'blocked-uri': 'x'.repeat(1000) } }) as { blockedURL: string }[]
  t.equal(v.blockedURL.length, 256)
  const err = await caught(() => Fastify().register(cspReportPlugin, { path: 'csp', bodyLimit: 10, logInterval: '1y', level: 'error' } as never).ready())
  t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
  t.same(err.problems, [
    'cspReport.path: must be a path starting with "/" (got string)',
    'cspReport.bodyLimit: must be >= 256 (got number)',
    "cspReport.logInterval: must be integer or a duration such as '10s' or '1m' (got string)",
    "cspReport.level: must be one of 'warn', 'info', 'debug' (got string)",
  ])
})
