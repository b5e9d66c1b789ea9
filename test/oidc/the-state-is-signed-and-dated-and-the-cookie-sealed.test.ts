import { createHmac } from 'node:crypto'
import t from 'tap'
import { openCookie, sealCookie } from '../../plugins/oidc/cookie-seal.js'
import { deriveKey } from '../../plugins/oidc/keys.js'
import { bindingHash, createState, verifyState } from '../../plugins/oidc/state.js'
import { SECRET_A, SECRET_B, SECRET_C } from './provider.js'

const A = deriveKey(SECRET_A)
const B = deriveKey(SECRET_B)
const C = deriveKey(SECRET_C)
const NOW = 1_800_000_000_000

/** A state with any payload, signed the way the plugin signs (HMAC-SHA256 of the payload text with the secret). */
function forge (payload: unknown, secret = SECRET_A): string {
  const text = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)).toString('base64url')
  return `s1.${text}.${createHmac('sha256', secret).update(text).digest('base64url')}`
}

const GOOD = { kid: A.id, rnd: 'AAAAAAAAAAAAAAAAAAAAAA', iat: NOW / 1000, bnd: bindingHash('b'), ret: '/ok' }

t.test('a state verifies with the key that signed it and carries its payload', async (t) => {
  const state = createState(A, 'binding', '/orders/7', NOW)
  const check = verifyState(state, [A], NOW)
  t.match(check, { ok: true, key: A, payload: { kid: A.id, iat: NOW / 1000, bnd: bindingHash('binding'), ret: '/orders/7' } })
  t.ok(state.length <= 512)
})

t.test('a state signed with a previous key still verifies; one signed with a key not listed does not', async (t) => {
  const state = createState(A, 'binding', '/', NOW)
  t.match(verifyState(state, [B, A], NOW), { ok: true, key: A })
  t.same(verifyState(state, [B, C], NOW), { ok: false, reason: 'mac' })
})

t.test('changing any one character of a state breaks it', async (t) => {
  const state = createState(A, 'binding', '/', NOW)
  for (let i = 0; i < state.length; i++) {
    const c = state[i] === 'A' ? 'B' : 'A'
    const changed = state.slice(0, i) + c + state.slice(i + 1)
    const check = verifyState(changed, [A], NOW)
    if (check.ok) t.fail(`position ${i} still verifies`)
  }
  t.same(verifyState(state.slice(0, -1), [A], NOW), { ok: false, reason: 'mac' })
  t.same(verifyState(state + 'A', [A], NOW), { ok: false, reason: 'mac' })
})

t.test('the envelope is checked before anything is decoded', async (t) => {
  t.same(verifyState('s1.' + 'a'.repeat(600) + '.b', [A], NOW), { ok: false, reason: 'length' })
  t.same(verifyState('s1.abc', [A], NOW), { ok: false, reason: 'format' })
  t.same(verifyState('s2.abc.def', [A], NOW), { ok: false, reason: 'format' })
  t.same(verifyState('s1.a+c.def', [A], NOW), { ok: false, reason: 'format' })
  t.same(verifyState('s1.abc.d=f', [A], NOW), { ok: false, reason: 'format' })
  t.same(verifyState('s1.abc.', [A], NOW), { ok: false, reason: 'format' })
  t.same(verifyState('', [A], NOW), { ok: false, reason: 'format' })
})

t.test('a signed payload of the wrong shape is refused', async (t) => {
  t.same(verifyState(forge('not json'), [A], NOW), { ok: false, reason: 'payload' })
  t.same(verifyState(forge('null'), [A], NOW), { ok: false, reason: 'payload' })
  t.same(verifyState(forge('"text"'), [A], NOW), { ok: false, reason: 'payload' })
  t.match(verifyState(forge(GOOD), [A], NOW), { ok: true })
  const bad: Record<string, unknown>[] = [
    { kid: 1 },
    { rnd: 'short' },
    { rnd: 'AAAAAAAAAAAAAAAAAAAAAA+' },
    { rnd: 7 },
    { iat: 1.5 },
    { iat: '1' },
    { bnd: 'x' },
    { bnd: 3 },
    { ret: '//evil.com' },
    { ret: 5 },
  ]
  for (const change of bad) {
    t.same(verifyState(forge({ ...GOOD, ...change }), [A], NOW), { ok: false, reason: 'payload' }, JSON.stringify(change))
  }
})

t.test('a state lives 10 minutes and may be at most 30 seconds ahead of this clock', async (t) => {
  const state = createState(A, 'binding', '/', NOW)
  t.match(verifyState(state, [A], NOW + 600_000), { ok: true })
  t.same(verifyState(state, [A], NOW + 601_000), { ok: false, reason: 'expired' })
  t.match(verifyState(state, [A], NOW - 30_000), { ok: true })
  t.same(verifyState(state, [A], NOW - 31_000), { ok: false, reason: 'future' })
})

t.test('the login cookie is sealed: it opens only with its key, and any change is detected', async (t) => {
  const secrets = { binding: 'bind', verifier: 'verifier-value', nonce: 'nonce-value' }
  const value = sealCookie(secrets, A)
  t.match(value, new RegExp(`^c1\\.${A.id.replace(/[-]/g, '\\-')}\\.[A-Za-z0-9_-]+$`))
  t.notOk(value.includes('verifier-value'))
  t.same(openCookie(value, [B, A]), secrets)
  t.equal(openCookie(value, [B]), undefined, 'key not listed')
  t.equal(openCookie(value.replace(A.id, B.id), [A, B]), undefined, 'key id swapped')
  const body = value.split('.')[2]
  const flipped = body.slice(0, 5) + (body[5] === 'A' ? 'B' : 'A') + body.slice(6)
  t.equal(openCookie(`c1.${A.id}.${flipped}`, [A]), undefined, 'ciphertext changed')
  t.equal(openCookie(`c1.${A.id}.AAAA`, [A]), undefined, 'too short')
  t.equal(openCookie(undefined, [A]), undefined, 'missing')
  t.equal(openCookie('', [A]), undefined, 'empty')
  t.equal(openCookie(`c2.${A.id}.${body}`, [A]), undefined, 'other version')
  t.equal(openCookie(`c1.${A.id}.${body}.x`, [A]), undefined, 'extra part')
  t.equal(openCookie('c1.' + 'A'.repeat(2000), [A]), undefined, 'too long')
  t.not(sealCookie(secrets, A), value, 'a fresh IV each time')
})

t.test('key ids differ per secret and do not reveal it', async (t) => {
  t.not(A.id, B.id)
  t.match(A.id, /^[A-Za-z0-9_-]{8}$/)
  t.same(deriveKey(SECRET_A), A)
  t.same(deriveKey(Buffer.from(SECRET_A)), A, 'a Buffer secret is the same key as its UTF-8 string')
})
