import { execFile } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { buildDemo } from '../examples/app.js'
import { selfSignedCert } from './helpers.js'

// Mozilla's HTTP Observatory scanner against the demo over HTTPS on
// 127.0.0.1. Offline facts: the package's install script (which downloads
// the HSTS preload list) is skipped by .npmrc, so its conf/hsts-preload.json
// is written here ({} is right for 127.0.0.1); the self-signed certificate
// must be trusted through NODE_EXTRA_CA_CERTS set before the scanning
// process starts, so the scan runs in a child process.
const require = createRequire(import.meta.url)
const observatory = dirname(require.resolve('@mdn/mdn-http-observatory/package.json'))
const preload = join(observatory, 'conf', 'hsts-preload.json')
if (!existsSync(preload)) writeFileSync(preload, '{}\n')

interface ScanResult {
  scan: { grade: string; score: number; testsPassed: number; testsQuantity: number }
  tests: Record<string, { pass: boolean | null; result: string }>
}

t.test('the demo scores A+ and passes every Observatory test', async (t) => {
  const { key, cert, dir } = selfSignedCert()
  const app = await buildDemo({ fastify: { https: { key, cert }, logger: false }, allowedHosts: ['127.0.0.1', 'localhost'], redisUrl: undefined })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }

  const script = [
    "import('@mdn/mdn-http-observatory')",
    '.then((m) => m.scan(process.argv[1]))',
    '.then((r) => process.stdout.write(JSON.stringify(r)))',
  ].join('')
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, `127.0.0.1:${port}`], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') },
    cwd: dirname(observatory),
    timeout: 60_000,
  })
  const result = JSON.parse(stdout) as ScanResult
  const failed = Object.entries(result.tests)
    .filter(([, test]) => test.pass !== true)
    .map(([name, test]) => `${name}: ${test.result}`)
  t.same(failed, [], 'every test passes (the grade alone can hide a failure)')
  t.equal(result.scan.grade, 'A+')
  t.equal(result.scan.testsPassed, result.scan.testsQuantity)
})
