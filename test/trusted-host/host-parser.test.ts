import t from 'tap'
import { absoluteFormAuthority, parseHost } from '../../plugins/trusted-host/host.js'

t.test('accepted authorities are normalised', async (t) => {
  t.same(parseHost('example.com'), { hostname: 'example.com', port: undefined, ip: false })
  t.same(parseHost('Example.COM'), { hostname: 'example.com', port: undefined, ip: false })
  t.same(parseHost('example.com.'), { hostname: 'example.com', port: undefined, ip: false }, 'one trailing dot')
  t.same(parseHost('example.com.:8080'), { hostname: 'example.com', port: 8080, ip: false })
  t.same(parseHost('api.example.com:443'), { hostname: 'api.example.com', port: 443, ip: false })
  t.same(parseHost('localhost'), { hostname: 'localhost', port: undefined, ip: false })
  t.same(parseHost('xn--bcher-kva.de'), { hostname: 'xn--bcher-kva.de', port: undefined, ip: false })
  t.same(parseHost('127.0.0.1:3000'), { hostname: '127.0.0.1', port: 3000, ip: true })
  t.same(parseHost('[::1]'), { hostname: '[::1]', port: undefined, ip: true })
  t.same(parseHost('[0:0:0:0:0:0:0:1]:8443'), { hostname: '[::1]', port: 8443, ip: true }, 'IPv6 in canonical form')
  t.same(parseHost('[2001:DB8::1]'), { hostname: '[2001:db8::1]', port: undefined, ip: true })
  t.same(parseHost('a:65535'), { hostname: 'a', port: 65535, ip: false })
})

t.test('refused authorities', async (t) => {
  const refused = [
    '',
    ' ',
    'example.com ',
    ' example.com',
    'exa mple.com',
    'example.com\t',
    'example.com\r\nx: y',
    'exa\u0000mple.com',
    'good.com@evil.com',
    'good.com:80@evil.com',
    'user:pass@good.com',
    'example.com:',
    'example.com:abc',
    'example.com:0',
    'example.com:65536',
    'example.com:123456',
    'example.com:-1',
    'example.com:80:80',
    'example.com..',
    '.example.com',
    'exa_mple.com',
    '-example.com',
    'example-.com',
    `${'a'.repeat(64)}.com`,
    `${'a.'.repeat(126)}co`,
    'bücher.de',
    'exa%6dple.com',
    'example.com/path',
    'http://example.com',
    '1.2.3',
    '01.2.3.4',
    '256.1.1.1',
    'example.123',
    '[::1',
    '::1',
    '[::g]',
    '[1.2.3.4]',
    '[::1]x',
    '*.example.com',
    'example.com,evil.com',
    `${'a'.repeat(300)}`,
  ]
  for (const value of refused) t.equal(parseHost(value), undefined, JSON.stringify(value))
})

t.test('absolute-form request targets', async (t) => {
  t.equal(absoluteFormAuthority('/path?x=1'), undefined)
  t.equal(absoluteFormAuthority('*'), undefined)
  t.equal(absoluteFormAuthority('http://evil.com/x'), 'evil.com')
  t.equal(absoluteFormAuthority('HTTPS://Good.com:8443'), 'Good.com:8443')
  t.equal(absoluteFormAuthority('http://a@b.com/'), 'a@b.com')
  t.equal(absoluteFormAuthority('evil.com/x'), '')
})
