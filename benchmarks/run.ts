import { type ChildProcess, fork, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { Redis } from 'ioredis'
import { REDIS_URL, REQUEST_HEADERS, VARIANTS } from './variants.js'

// Interleaved rounds: each round runs every variant once, in a rotated
// order, so drift on a shared machine (thermal, neighbours) spreads over all
// variants instead of landing on whichever ran last. Medians, not means.

const here = dirname(fileURLToPath(import.meta.url))
const quick = process.argv.includes('--quick')
const rounds = quick ? 2 : 8
const duration = quick ? 1 : 2
const connections = 10
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',')

async function redisReachable (): Promise<boolean> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  try {
    await probe.connect()
    return (await probe.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    probe.disconnect()
  }
}
const redis = await redisReachable()
if (!redis) console.log(`No Redis at ${REDIS_URL}: the Redis variants are left out.`)
// A subset still runs bare Fastify and each chosen variant's floor, for the ratios.
const wanted = only === undefined ? undefined : new Set(['bare', ...only, ...only.map((n) => VARIANTS[n]?.floor).filter((f) => f !== undefined)])
const names = Object.keys(VARIANTS).filter((n) => (wanted === undefined || wanted.has(n)) && (redis || !VARIANTS[n].redis))

// With two or more cores, servers run on core 0 and the load generator on
// core 1, so the scheduler does not shuffle them onto one core mid-run.
const pin =
  cpus().length >= 2 &&
  spawnSync('taskset', ['-acp', '1', String(process.pid)], { stdio: 'ignore' }).status === 0

function start (name: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(join(here, 'server.ts'), [name], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  if (pin && child.pid !== undefined) { spawnSync('taskset', ['-acp', '0', String(child.pid)], { stdio: 'ignore' }) }
  return new Promise((resolve, reject) => {
    child.once('message', (msg) => resolve({ child, port: (msg as { port: number }).port }))
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)))
  })
}

function cpuOf (child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (msg: unknown) => {
      if (typeof msg === 'object' && msg !== null && 'cpu' in msg) {
        child.off('message', onMessage)
        resolve((msg as { cpu: number }).cpu)
      }
    }
    child.on('message', onMessage)
    child.send('cpu')
  })
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const servers = new Map<string, { child: ChildProcess; port: number }>()
for (const name of names) servers.set(name, await start(name))

const samples = new Map<string, { rps: number[]; p99: number[]; cpu: number[] }>(
  names.map((n) => [n, { rps: [], p99: [], cpu: [] }])
)
try {
  // Warm-up (not recorded): let the JIT settle in every server first.
  for (const name of names) {
    await autocannon({ url: `http://127.0.0.1:${servers.get(name)!.port}/`, connections, duration: 1, headers: VARIANTS[name].request ?? REQUEST_HEADERS })
  }
  for (let round = 0; round < rounds; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length])
    for (const name of order) {
      const { port, child } = servers.get(name)!
      const cpuBefore = await cpuOf(child)
      // Every variant gets the same browser-like request (an allowed cross-origin GET) unless it names its own.
      const result = await autocannon({
        url: `http://127.0.0.1:${port}/`,
        connections,
        duration,
        headers: VARIANTS[name].request ?? REQUEST_HEADERS,
      })
      const cpuAfter = await cpuOf(child)
      if (result.non2xx > 0 || result.errors > 0) { throw new Error(`${name}: ${result.non2xx} non-2xx, ${result.errors} errors`) }
      const sample = samples.get(name)!
      sample.rps.push(result.requests.average)
      sample.p99.push(result.latency.p99)
      sample.cpu.push((cpuAfter - cpuBefore) / result.requests.total)
    }
    process.stderr.write(`round ${round + 1}/${rounds} done\n`)
  }
} finally {
  for (const { child } of servers.values()) child.disconnect()
}

function quantile (values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (sorted.length - 1) * q
  const lo = Math.floor(at)
  return sorted[lo] + (sorted[Math.ceil(at)] - sorted[lo]) * (at - lo)
}

const bare = median(samples.get('bare')!.rps)
const rows = names.map((name) => {
  const rps = median(samples.get(name)!.rps)
  const cpu = median(samples.get(name)!.cpu)
  return {
    name,
    label: VARIANTS[name].label,
    rps,
    p99: median(samples.get(name)!.p99),
    ratio: rps / bare,
    cpu,
  }
})

// The steadiest figure on a shared machine: per round, this variant's CPU
// µs/request minus its floor's from the same round; median and quartiles.
function overFloor (name: string): string {
  const floor = VARIANTS[name].floor
  if (floor === undefined || !samples.has(floor)) return ''
  const mine = samples.get(name)!.cpu
  const theirs = samples.get(floor)!.cpu
  const diffs = mine.map((cpu, i) => cpu - theirs[i])
  return `${quantile(diffs, 0.5).toFixed(1)} (${quantile(diffs, 0.25).toFixed(1)} to ${quantile(diffs, 0.75).toFixed(1)})`
}

const header = '| variant | req/s (median) | p99 ms | server CPU µs/req | × bare | × floor | × official | µs/req over floor, median (25th to 75th) |'
const lines = [header, '|---|---:|---:|---:|---:|---:|---:|---:|']
for (const r of rows) {
  const counterpart = rows.find((o) => o.name === VARIANTS[r.name].official)
  const official = counterpart === undefined ? '' : (r.rps / counterpart.rps).toFixed(2)
  const floorRow = rows.find((o) => o.name === VARIANTS[r.name].floor)
  const floor = floorRow === undefined ? '' : (r.rps / floorRow.rps).toFixed(2)
  lines.push(
    `| ${r.label} | ${Math.round(r.rps)} | ${r.p99.toFixed(1)} | ${r.cpu.toFixed(1)} | ${r.ratio.toFixed(2)} | ${floor} | ${official} | ${overFloor(r.name)} |`
  )
}
const table = lines.join('\n')
console.log(table)

const versions = (pkg: string) =>
  import(`${pkg}/package.json`, { with: { type: 'json' } }).then((m) => m.default.version)
const meta = [
  `Date: ${new Date().toISOString()}`,
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${process.platform} ${process.arch}`,
  `Node ${process.version}, fastify ${await versions('fastify')}, @fastify/helmet ${await versions('@fastify/helmet')}, @fastify/cors ${await versions('@fastify/cors')}, @fastify/rate-limit ${await versions('@fastify/rate-limit')}, ioredis ${await versions('ioredis')}, Redis ${redis ? 'on 127.0.0.1:6379' : 'not reachable'}, autocannon ${await versions('autocannon')}`,
  `Method: ${rounds} interleaved rounds × ${duration} s per variant, ${connections} connections, each server in its own process on 127.0.0.1${pin ? ' pinned to core 0, load generator on core 1' : ''}; median of rounds. "× official" compares with the equivalent official plugin; "× floor" with a server that writes the same response headers (captured from the variant at startup) with no logic; "over floor" is the per-round paired difference in server CPU.`,
]
// Only a full run of every variant is a result worth keeping.
if (!quick && only === undefined) {
  writeFileSync(
    join(here, 'RESULTS.md'),
    `# Benchmark results\n\nWritten by \`npm run bench\`.\n\n${meta.map((m) => `- ${m}`).join('\n')}\n\n${table}\n`
  )
  console.log('\nwrote benchmarks/RESULTS.md')
}
