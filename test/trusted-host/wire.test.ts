import { connect as h2connect } from 'node:http2'
import { connect } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { securityPlugin, trustedHostPlugin } from '../../index.js'

// What app.inject cannot send: several Host headers, an empty Host, no Host
// at all, absolute-form targets, HTTP/2 :authority. Raw bytes over a real
// socket on 127.0.0.1.

async function listen (t: Test, http2 = false) {
  const app = (http2 ? Fastify({ http2: true }) : Fastify()) as unknown as FastifyInstance
  t.teardown(() => app.close())
  await app.register(securityPlugin, { rateLimit: false, trustedHost: { allowedHosts: ['good.example', '127.0.0.1'] } })
  let handled = 0
  app.get('/*', async () => {
    handled++
    return { ok: true }
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  return { port, handled: () => handled }
}

function raw (port: number, request: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request))
    let data = ''
    socket.on('data', (chunk) => {
      data += chunk
    })
    socket.on('end', () => {
      const [head, ...rest] = data.split('\r\n\r\n')
      resolve({ status: Number(head.split(' ')[1]), body: rest.join('\r\n\r\n') })
    })
    socket.on('error', reject)
  })
}

t.test('a single good Host passes over the wire', async (t) => {
  const { port, handled } = await listen(t)
  const res = await raw(port, 'GET / HTTP/1.1\r\nHost: good.example\r\nConnection: close\r\n\r\n')
  t.equal(res.status, 200)
  t.equal(handled(), 1)
})

t.test('more than one Host header is refused, whichever comes first', async (t) => {
  const { port, handled } = await listen(t)
  for (const hosts of [['good.example', 'evil.example'], ['evil.example', 'good.example'], ['good.example', 'good.example']]) {
    const res = await raw(port, `GET / HTTP/1.1\r\nHost: ${hosts[0]}\r\nhost: ${hosts[1]}\r\nConnection: close\r\n\r\n`)
    t.equal(res.status, 400, hosts.join(' + '))
    t.match(res.body, /FST_RAMPART_UNTRUSTED_HOST/)
  }
  t.equal(handled(), 0)
})

t.test('empty and missing Host are refused', async (t) => {
  const { port, handled } = await listen(t)
  t.equal((await raw(port, 'GET / HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n')).status, 400, 'empty')
  t.equal((await raw(port, 'GET / HTTP/1.0\r\n\r\n')).status, 400, 'HTTP/1.0 without Host')
  t.equal((await raw(port, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n')).status, 400, 'HTTP/1.1 without Host (Node refuses it first)')
  t.equal(handled(), 0)
})

t.test('absolute-form targets must name the same host as Host', async (t) => {
  const { port, handled } = await listen(t)
  const evil = await raw(port, 'GET http://evil.example/ HTTP/1.1\r\nHost: good.example\r\nConnection: close\r\n\r\n')
  t.equal(evil.status, 400)
  const userinfo = await raw(port, 'GET http://good.example@evil.example/ HTTP/1.1\r\nHost: good.example\r\nConnection: close\r\n\r\n')
  t.equal(userinfo.status, 400)
  const otherPort = await raw(port, 'GET http://good.example:8080/ HTTP/1.1\r\nHost: good.example\r\nConnection: close\r\n\r\n')
  t.equal(otherPort.status, 400)
  const garbage = await raw(port, 'GET good.example/x HTTP/1.1\r\nHost: good.example\r\nConnection: close\r\n\r\n')
  t.equal(garbage.status, 400)
  t.equal(handled(), 0)
  const same = await raw(port, 'GET http://GOOD.example:80/x HTTP/1.1\r\nHost: good.example\r\nConnection: close\r\n\r\n')
  t.not(same.status, 400, 'same authority: not a host problem')
})

t.test('HTTP/2 uses :authority', async (t) => {
  const { port, handled } = await listen(t, true)
  const client = h2connect(`http://127.0.0.1:${port}`)
  t.teardown(() => client.close())
  const get = (authority: string) =>
    new Promise<number>((resolve, reject) => {
      const req = client.request({ ':path': '/', ':authority': authority })
      req.on('response', (headers) => {
        req.resume()
        req.on('end', () => resolve(Number(headers[':status'])))
      })
      req.on('error', reject)
      req.end()
    })
  t.equal(await get('good.example'), 200)
  t.equal(await get('evil.example'), 400)
  t.equal(handled(), 1)
})

t.test('Host and :authority that disagree are refused', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(trustedHostPlugin, { allowedHosts: ['good.example', 'other.example'] })
  app.get('/', async () => 'ok')
  const res = await app.inject({ url: '/', headers: { host: 'good.example', ':authority': 'other.example' } })
  t.equal(res.statusCode, 400)
  const same = await app.inject({ url: '/', headers: { host: 'good.example', ':authority': 'good.example' } })
  t.equal(same.statusCode, 200)
})

t.test('a redirect from an absolute-form target keeps its path and query', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(trustedHostPlugin, { allowedHosts: ['good.example'], redirect: { https: true } })
  app.get('/*', async () => 'ok')
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const res = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () =>
      socket.end('GET http://good.example/a?b=1 HTTP/1.1\r\nHost: good.example\r\nConnection: close\r\n\r\n')
    )
    let data = ''
    socket.on('data', (chunk) => {
      data += chunk
    })
    socket.on('end', () => resolve(data))
    socket.on('error', reject)
  })
  t.match(res, /^HTTP\/1\.1 308/)
  t.match(res, /\r\nlocation: https:\/\/good\.example\/a\?b=1\r\n/i)
})
