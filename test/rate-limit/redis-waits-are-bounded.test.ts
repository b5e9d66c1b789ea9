import Fastify from 'fastify'
import t from 'tap'
import { rateLimitPlugin } from '../../index.js'
import { captureLogs } from '../helpers.js'
import { freePort, skipRedis, startRedis, uniquePrefix } from '../redis-helpers.js'

t.test('a Redis we connected to ourselves that stops answering: every request is bounded by timeoutMs', { skip: skipRedis }, async (t) => {
  const port = await freePort()
  const server = await startRedis(port)
  t.teardown(() => {
    server.kill('SIGCONT')
    server.kill('SIGKILL')
  })
  const { stream, lines } = captureLogs()
  const app = Fastify({ logger: { stream, level: 'warn' } })
  t.teardown(() => app.close())
  await app.register(rateLimitPlugin, { store: { redis: `redis://127.0.0.1:${port}`, prefix: uniquePrefix('sigstop'), timeoutMs: 100 }, onStoreError: 'closed' })
  app.get('/', async () => 'ok')
  t.equal((await app.inject('/')).statusCode, 200)
  server.kill('SIGSTOP')
  // Two at once: with auto-pipelining the second queues behind the first batch.
  const answers = await Promise.all([app.inject('/'), app.inject('/')])
  t.same(answers.map((r) => r.statusCode), [503, 503])
  const failure = lines.find((l) => l.msg === 'fastify-rampart: the rate-limit store failed') as { err: { message: string } } | undefined
  t.equal(failure?.err.message, 'store did not answer within 100 ms', "our bound, not the client's own (later) timer, answered")
})

t.test('a Redis URL that is down: connection errors go to the Fastify logger, rate-limited, and close does not wait', { skip: skipRedis }, async (t) => {
  const port = await freePort()
  const { stream, lines } = captureLogs()
  const app = Fastify({ logger: { stream, level: 'warn' } })
  await app.register(rateLimitPlugin, { store: { redis: `redis://127.0.0.1:${port}`, prefix: uniquePrefix('down') } })
  app.get('/', async () => 'ok')
  t.equal((await app.inject('/')).statusCode, 200, "onStoreError 'memory' stands in")
  const errors = lines.filter((l) => l.msg === 'fastify-rampart: the rate limit Redis connection failed')
  t.equal(errors.length, 1, 'reconnect attempts during the 2 s startup wait logged once')
  t.match(errors[0], { level: 50, err: { code: 'ECONNREFUSED' } })
  const closed = app.close()
  await t.resolves(closed)
})
