import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'

// Real Redis for every store test: the shared server on 127.0.0.1:6379, and
// private redis-servers on free loopback ports for outage tests (never stop
// the shared one). In CI (CI=true) these tests must run, so they fail when
// Redis is missing; elsewhere they skip with this message.
export const REDIS_URL = 'redis://127.0.0.1:6379'

async function redisUp (): Promise<boolean> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false })
  try {
    await probe.connect()
    return (await probe.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    probe.disconnect()
  }
}

/** `skip` option for tap tests that need the shared Redis. */
export const skipRedis: string | false =
  !(await redisUp()) && process.env.CI !== 'true' ? 'no Redis on 127.0.0.1:6379 (start one with redis-server to run these)' : false

/** A key prefix no other test run shares (tests never flush the shared Redis). */
export function uniquePrefix (name: string): string {
  return `rampart:test:${process.pid}:${Date.now()}:${name}:`
}

export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/** Starts a private redis-server on `port` and waits until it answers. */
export async function startRedis (port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  for (let i = 0; i < 100; i++) {
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
    try {
      await probe.connect()
      if ((await probe.ping()) === 'PONG') return child
    } catch {
      await sleep(50)
    } finally {
      probe.disconnect()
    }
  }
  child.kill('SIGKILL')
  throw new Error('private redis-server did not start')
}
