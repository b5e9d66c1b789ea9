import { spawn } from 'node:child_process'
import { once } from 'node:events'
import t from 'tap'
import { freePort } from './redis-helpers.js'

// The demo as `npm start` runs it, in its own process, stopped by a signal.
async function startDemo (port: number) {
  const env: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', PORT: String(port), NODE_ENV: 'development' }
  delete env.REDIS_URL
  delete env.ALLOWED_HOSTS
  // tap instruments child processes; tsx's transpile would map the child's
  // coverage onto the wrong lines, so the child records none.
  env._TAPJS_PROCESSINFO_COV_EXCLUDE_ = '/./'
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/server.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (chunk) => { out += String(chunk) })
  child.stderr.on('data', (chunk) => { out += String(chunk) })
  // Bounded: the child prints its banner or exits.
  while (!out.includes('fastify-rampart demo on') && child.exitCode === null) await Promise.race([once(child.stdout, 'data'), once(child, 'exit')])
  return { child, output: () => out }
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`the demo closes gracefully on ${signal}`, async (t) => {
    const port = await freePort()
    const { child, output } = await startDemo(port)
    t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
    const res = await fetch(`http://127.0.0.1:${port}/health`)
    t.equal(res.status, 200)
    const exited = once(child, 'exit')
    child.kill(signal)
    const [code, killedBy] = await exited
    if (code !== 0) t.comment(output())
    t.equal(code, 0, 'exit code 0')
    t.equal(killedBy, null, 'exited on its own, not killed by the signal')
    t.match(output(), `"signal":"${signal}"`)
    t.match(output(), 'fastify-rampart demo: closed')
  })
}
