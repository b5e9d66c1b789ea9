import Fastify, { type FastifyReply } from 'fastify'
import t from 'tap'
import {
  compileMaker,
  getHeader,
  hasHeader,
  headersOf,
  headerWriter,
  rawHasHeaders,
  replyHeaders,
  resetReplyHeaderSymbols,
} from '../../lib/reply-headers.js'

const PAIRS = [['x-one', '1'], ['x-two', '2']] as const

t.test('a list written into an empty reply, and over headers an earlier hook set', async (t) => {
  const write = headerWriter(PAIRS)
  const app = Fastify()
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers['x-early'] !== undefined) reply.header('x-two', 'early').header('x-early', 'kept')
    write(reply)
  })
  app.get('/', async (_request, reply) => {
    reply.header('x-one', 'handler')
    return 'ok'
  })
  const plain = await app.inject('/')
  t.equal(plain.headers['x-one'], 'handler', 'the handler still replaces a written header')
  t.equal(plain.headers['x-two'], '2')
  const early = await app.inject({ url: '/', headers: { 'x-early': '1' } })
  t.same([early.headers['x-early'], early.headers['x-two'], early.headers['x-one']], ['kept', '2', 'handler'])
})

t.test('raw headers: seen without a name list, read where Fastify has none', async (t) => {
  const app = Fastify()
  app.get('/', async (request, reply) => {
    const before = [rawHasHeaders(reply), getHeader(reply, 'x-raw'), hasHeader(reply, 'x-raw')]
    reply.raw.setHeader('x-raw', 'r')
    reply.header('x-own', 'o')
    const after = [rawHasHeaders(reply), getHeader(reply, 'x-raw'), hasHeader(reply, 'x-own'), hasHeader(reply, 'x-none')]
    return { before, after, same: replyHeaders(reply) === headersOf(reply) }
  })
  // A real response: Node holds nothing until a raw setHeader (an injected one may).
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const { port } = app.server.address() as { port: number }
  const res = await fetch(`http://127.0.0.1:${port}/`)
  t.same(await res.json(), { before: [false, null, false], after: [true, 'r', true, false], same: true })
})

t.test('where code generation is refused, a copy makes the same object', async (t) => {
  const make = compileMaker(['a-b', 'c'], () => { throw new EvalError('Code generation from strings disallowed') })
  t.same(make(['1', '2']), { 'a-b': '1', c: '2' })
  t.same(compileMaker(['a-b', 'c'])(['1', '2']), { 'a-b': '1', c: '2' })
  for (const name of ['__proto__', 'X-Upper', '"quoted"', 'a b', '']) {
    t.throws(() => compileMaker([name]), TypeError, `refused: ${JSON.stringify(name)}`)
  }
})

t.test('on a Fastify without the symbols, the public API does the work', async (t) => {
  resetReplyHeaderSymbols()
  t.teardown(resetReplyHeaderSymbols)
  const set: Record<string, unknown> = {}
  const raw = { getHeaderNames: () => Object.keys(rawHeaders), getHeader: (n: string) => rawHeaders[n] }
  const rawHeaders: Record<string, string> = {}
  const reply = {
    raw,
    header (name: string, value: unknown) { set[name] = value; return this },
    getHeader: (name: string) => set[name] ?? rawHeaders[name],
  } as unknown as FastifyReply
  t.equal(replyHeaders(reply), undefined)
  t.equal(rawHasHeaders(reply), false)
  headerWriter(PAIRS)(reply)
  const headers = headersOf(reply)
  headers['x-three'] = '3'
  t.same(set, { 'x-one': '1', 'x-two': '2', 'x-three': '3' })
  t.equal(headers['x-two'], '2', 'reads go to reply.getHeader')
  rawHeaders['x-raw'] = 'r'
  t.equal(rawHasHeaders(reply), true)
  t.equal(getHeader(reply, 'x-raw'), 'r')
})
