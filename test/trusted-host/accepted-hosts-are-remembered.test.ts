import t from 'tap'
import { trustedHostPlugin } from '../../index.js'
import { makeApp } from '../helpers.js'

// Accepted Host values skip the parse on later requests: the memory must
// never let through what the route's own list, the scheme or the target refuse.

t.test('a remembered host is still judged per route list, and per port', async (t) => {
  const app = makeApp(t)
  await app.register(trustedHostPlugin, { allowedHosts: ['a.example.com', 'a.example.com:8443'] })
  app.get('/', async () => ({ ok: true }))
  app.get('/b', { config: { security: { trustedHost: { allowedHosts: ['b.example.com'] } } } }, async () => ({ ok: true }))
  const get = (url: string, host: string, headers: Record<string, string> = {}) =>
    app.inject({ url, headers: { host, ...headers } }).then((r) => r.statusCode)
  t.equal(await get('/', 'a.example.com'), 200)
  t.equal(await get('/', 'a.example.com'), 200)
  t.equal(await get('/b', 'a.example.com'), 400, 'the route list is its own')
  t.equal(await get('/b', 'b.example.com'), 200)
  t.equal(await get('/', 'b.example.com'), 400)
  t.equal(await get('/', 'a.example.com:8443'), 200)
  // Absolute-form targets are never answered from memory: test/trusted-host/wire.test.ts.
})

t.test('the memory is bounded: a wildcard allows endless names, and the answers stay right past the bound', async (t) => {
  const app = makeApp(t)
  await app.register(trustedHostPlugin, { allowedHosts: ['*.example.com'] })
  app.get('/', async () => ({ ok: true }))
  for (let i = 0; i < 1100; i++) {
    const res = await app.inject({ url: '/', headers: { host: `t${i}.example.com` } })
    if (res.statusCode !== 200) t.fail(`t${i}.example.com got ${res.statusCode}`)
  }
  t.equal((await app.inject({ url: '/', headers: { host: 't0.example.com' } })).statusCode, 200)
  t.equal((await app.inject({ url: '/', headers: { host: 'example.com' } })).statusCode, 400)
  t.equal((await app.inject({ url: '/', headers: { host: 't0.example.com@evil.com' } })).statusCode, 400)
})

t.test('with redirects nothing is remembered: the answer depends on the path', async (t) => {
  const app = makeApp(t)
  await app.register(trustedHostPlugin, { allowedHosts: ['example.com'], redirect: { https: true, exemptPaths: ['/health'] } })
  app.get('/health', async () => ({ ok: true }))
  app.get('/', async () => ({ ok: true }))
  t.equal((await app.inject({ url: '/health', headers: { host: 'example.com' } })).statusCode, 200)
  const res = await app.inject({ url: '/', headers: { host: 'example.com' } })
  t.equal(res.statusCode, 308)
  t.equal(res.headers.location, 'https://example.com/')
})
