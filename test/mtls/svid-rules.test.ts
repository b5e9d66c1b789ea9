import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parseBundle, pathToRoots } from '../../plugins/mtls/chain.js'
import { verifyPeer } from '../../plugins/mtls/peer.js'
import { watchMaterial } from '../../plugins/mtls/rotation.js'
import { type Issued, Pki } from '../mtls-pki.js'
import { CHECKOUT_ID } from '../mtls-world.js'

// openssl makes the certificates for this file; a loaded machine needs more than the default 30 s.
t.setTimeout(180_000)

// The rules the TLS layer never lets a peer reach (it refuses the handshake
// first), checked on the pure functions.
const pki = new Pki()
t.teardown(() => pki.remove())
const root = pki.root('rules-root', 'example.org')
const int = pki.intermediate('rules-int', root, 'example.org')
const bundles = new Map([['example.org', parseBundle(root.cert)]])
// Read when each check runs: a certificate made a moment ago is not valid at an earlier instant.
const now = () => Date.now()

function ders (issued: Issued): Buffer[] {
  return parseBundle(issued.chain).map((c) => c.raw)
}

t.test('an authenticated certificate with the rules met gets its ID and the path to the root', async (t) => {
  const verdict = verifyPeer(true, ders(pki.leaf('rules-ok', int, { uris: [CHECKOUT_ID] })), bundles, now())
  t.ok(verdict.ok)
  if (verdict.ok) {
    t.equal(verdict.id.toString(), CHECKOUT_ID)
    t.same(verdict.chain.map((c) => c.subject), ['CN=rules-ok', 'CN=rules-int', 'CN=rules-root'])
  }
})

t.test('a peer the TLS layer did not authenticate is a 401', async (t) => {
  t.same(verifyPeer(false, [], bundles, now()), { ok: false, status: 401, reason: 'no client certificate' })
  t.same(verifyPeer(false, ders(pki.leaf('rules-401', int, { uris: [CHECKOUT_ID] })), bundles, now()), { ok: false, status: 401, reason: 'client certificate not trusted' })
})

t.test('leaf rules refuse with 403', async (t) => {
  const cases: [string, Issued | Buffer[], string][] = [
    ['EKU without clientAuth', pki.leaf('rules-server-only', int, { uris: [CHECKOUT_ID], eku: 'serverAuth' }), 'the client certificate is not for client authentication'],
    ['keyCertSign without CA', pki.leaf('rules-signer', int, { uris: [CHECKOUT_ID], keyUsage: 'digitalSignature,keyCertSign' }), 'the client certificate may sign certificates or CRLs'],
    ['cRLSign without CA', pki.leaf('rules-crl', int, { uris: [CHECKOUT_ID], keyUsage: 'digitalSignature,cRLSign' }), 'the client certificate may sign certificates or CRLs'],
    ['expired', pki.leaf('rules-expired', int, { uris: [CHECKOUT_ID], days: -1 }), "the chain does not end at the bundle of the ID's trust domain"],
    ['not DER', [Buffer.from('not a certificate')], 'the client certificate could not be read'],
  ]
  for (const [name, input, reason] of cases) {
    const verdict = verifyPeer(true, Array.isArray(input) ? input : ders(input), bundles, now())
    t.match(verdict, { ok: false, status: 403, reason }, name)
  }
  const noEku = verifyPeer(true, ders(pki.leaf('rules-no-eku', int, { uris: [CHECKOUT_ID], eku: false })), bundles, now())
  t.equal(noEku.ok, true, 'a certificate without EKU may be a client')
})

t.test('a certificate without any extension has no URI SAN', async (t) => {
  const key = join(pki.dir, 'bare.key')
  const csr = join(pki.dir, 'bare.csr')
  const cert = join(pki.dir, 'bare.pem')
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], { stdio: 'ignore' })
  execFileSync('openssl', ['req', '-new', '-key', key, '-subj', '/CN=bare', '-out', csr], { stdio: 'ignore' })
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', int.certPath, '-CAkey', int.keyPath, '-set_serial', '99', '-days', '1', '-out', cert], { stdio: 'ignore' })
  const verdict = verifyPeer(true, [new X509Certificate(readFileSync(cert)).raw], bundles, now())
  t.match(verdict, { ok: false, status: 403, reason: 'the certificate has no URI SAN' })
})

t.test('path building stops at a depth, skips loops and certificates that did not sign', async (t) => {
  const int2 = pki.intermediate('rules-int2', int, 'example.org')
  const leaf = pki.leaf('rules-deep', int2, { uris: [CHECKOUT_ID] })
  const [l, i2, i1] = parseBundle(leaf.chain)
  const roots = parseBundle(root.cert)
  const stranger = parseBundle(pki.root('rules-stranger').cert)
  t.same(pathToRoots(l, [stranger[0], i1, i2], roots, now())?.map((c) => c.subject), ['CN=rules-deep', 'CN=rules-int2', 'CN=rules-int', 'CN=rules-root'])
  t.equal(pathToRoots(l, [i2, i1], roots, now(), 2), undefined)
  t.equal(pathToRoots(l, [i2, i1, stranger[0]], stranger, now()), undefined)
})

t.test('a reload with unchanged files installs nothing', async (t) => {
  const server = pki.leaf('rules-server', int, { uris: [CHECKOUT_ID] })
  const bundle = join(pki.dir, 'rules-bundle.pem')
  writeFileSync(bundle, root.cert)
  const installed: unknown[] = []
  const errors: Error[] = []
  const rotation = watchMaterial({
    files: { cert: server.certPath, key: server.keyPath, bundle },
    current: { cert: server.cert, key: server.key, bundle: root.cert },
    debounceMs: 10_000,
    extraCa: [],
    install: (secure) => installed.push(secure),
    onBundle: () => installed.push('bundle'),
    onReload: () => installed.push('reload'),
    onError: (err) => errors.push(err),
  })
  t.teardown(() => rotation.close())
  await rotation.reload()
  t.same(installed, [])
  writeFileSync(bundle, root.cert + int.cert)
  await rotation.reload()
  t.same(installed, [{ cert: server.cert, key: server.key, ca: [root.cert + int.cert] }, 'bundle', 'reload'])
  t.same(errors, [])
})
