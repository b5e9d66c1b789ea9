import t from 'tap'
import { trustedHostPlugin } from '../../index.js'
import { parseHost } from '../../plugins/trusted-host/host.js'
import { caught, makeApp } from '../helpers.js'

// Issue 10, item 10: `:000080` was refused (six digits) while `:00080` was
// accepted as port 80. One rule now: a port with a leading zero is refused.

t.test('a port with any leading zero is refused, whatever its length', async (t) => {
  for (const host of ['a.example:0', 'a.example:00', 'a.example:080', 'a.example:0080', 'a.example:00080', 'a.example:000080', '[::1]:08080', '127.0.0.1:01']) {
    t.equal(parseHost(host), undefined, host)
  }
  t.same(parseHost('a.example:80'), { hostname: 'a.example', port: 80, ip: false })
  t.same(parseHost('a.example:10'), { hostname: 'a.example', port: 10, ip: false })
})

t.test('on the wire and in the allowlist alike', async (t) => {
  const app = makeApp(t)
  await app.register(trustedHostPlugin, { allowedHosts: ['a.example'] })
  app.get('/', async () => 'ok')
  t.equal((await app.inject({ url: '/', headers: { host: 'a.example:80' } })).statusCode, 200)
  t.equal((await app.inject({ url: '/', headers: { host: 'a.example:00080' } })).statusCode, 400)
  const err = await caught(async () => {
    const other = makeApp(t)
    await other.register(trustedHostPlugin, { allowedHosts: ['a.example:0443'] })
    await other.ready()
  })
  t.same(err.problems, ['trustedHost.allowedHosts[0]: must be a host name, an IPv4 address or a bracketed IPv6 address, with an optional port'])
})
