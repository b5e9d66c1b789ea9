import t from 'tap'
import { assertPkce, createPkcePair, pkceChallenge, verifyPkce } from '../../oauth/pkce.js'
import { caught } from '../helpers.js'

// RFC 7636 Appendix B.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'

t.test('the RFC 7636 Appendix B verifier matches its challenge', async (t) => {
  t.equal(pkceChallenge(VERIFIER), CHALLENGE)
  t.equal(verifyPkce({ verifier: VERIFIER, challenge: CHALLENGE, method: 'S256' }), true)
})

t.test('verifiers of the wrong length or with characters outside the unreserved set fail', async (t) => {
  const long = 'a'.repeat(129)
  const short = 'a'.repeat(42)
  t.equal(verifyPkce({ verifier: short, challenge: pkceChallenge('a'.repeat(43)), method: 'S256' }), false)
  t.equal(verifyPkce({ verifier: long, challenge: pkceChallenge('a'.repeat(128)), method: 'S256' }), false)
  for (const c of ['+', '/', '=']) {
    const verifier = VERIFIER.slice(0, 42) + c
    t.equal(verifyPkce({ verifier, challenge: CHALLENGE, method: 'S256' }), false, `verifier with ${c}`)
  }
  t.equal(verifyPkce({ verifier: 'a'.repeat(43), challenge: pkceChallenge('a'.repeat(43)), method: 'S256' }), true, '43 is the shortest')
  t.equal(verifyPkce({ verifier: 'a'.repeat(128), challenge: pkceChallenge('a'.repeat(128)), method: 'S256' }), true, '128 is the longest')
  t.equal(verifyPkce({ verifier: VERIFIER.slice(0, 42) + 'Y', challenge: CHALLENGE, method: 'S256' }), false, 'another verifier')
})

t.test('plain and a missing method fail, even when the values are equal', async (t) => {
  t.equal(verifyPkce({ verifier: VERIFIER, challenge: VERIFIER, method: 'plain' }), false)
  t.equal(verifyPkce({ verifier: VERIFIER, challenge: CHALLENGE, method: undefined }), false)
  t.equal(verifyPkce({ verifier: VERIFIER, challenge: CHALLENGE, method: 's256' }), false, 'the method is case-sensitive')
})

t.test('malformed challenges and non-string inputs are false, never a throw', async (t) => {
  t.equal(verifyPkce({ verifier: VERIFIER, challenge: `${CHALLENGE}=`, method: 'S256' }), false, 'padded')
  t.equal(verifyPkce({ verifier: VERIFIER, challenge: CHALLENGE.replace('-', '+'), method: 'S256' }), false, 'base64, not base64url')
  t.equal(verifyPkce({ verifier: VERIFIER, challenge: 42, method: 'S256' }), false)
  t.equal(verifyPkce({ verifier: ['x'], challenge: CHALLENGE, method: 'S256' }), false)
  t.equal(verifyPkce({ verifier: VERIFIER, challenge: undefined, method: 'S256' }), false)
})

t.test('createPkcePair makes a fresh S256 pair that verifies', async (t) => {
  const a = createPkcePair()
  const b = createPkcePair()
  t.match(a, { verifier: /^[A-Za-z0-9_-]{43}$/, challenge: /^[A-Za-z0-9_-]{43}$/, method: 'S256' })
  t.not(a.verifier, b.verifier)
  t.equal(verifyPkce(a), true)
  t.equal(verifyPkce({ ...a, challenge: b.challenge }), false)
})

t.test('pkceChallenge refuses a verifier RFC 7636 would refuse', async (t) => {
  t.throws(() => pkceChallenge('too-short'), TypeError)
  t.throws(() => pkceChallenge(undefined as unknown as string), TypeError)
})

t.test('assertPkce: the three downgrade cases throw invalid_grant', async (t) => {
  const noVerifier = await caught(() => assertPkce({ storedChallenge: CHALLENGE, storedMethod: 'S256' }))
  t.match(noVerifier, { code: 'FST_RAMPART_OAUTH_INVALID_GRANT', statusCode: 400, error: 'invalid_grant', error_description: 'code_verifier required' })

  const noChallenge = await caught(() => assertPkce({ verifier: VERIFIER }))
  t.match(noChallenge, {
    code: 'FST_RAMPART_OAUTH_INVALID_GRANT',
    error: 'invalid_grant',
    error_description: 'code_verifier given but the authorization request had no code_challenge',
  })

  const mismatch = await caught(() => assertPkce({ storedChallenge: CHALLENGE, storedMethod: 'S256', verifier: createPkcePair().verifier }))
  t.match(mismatch, { code: 'FST_RAMPART_OAUTH_INVALID_GRANT', error: 'invalid_grant', error_description: 'PKCE verification failed' })
  t.equal(mismatch.message, 'PKCE verification failed')
})

t.test('assertPkce passes a match, and a code issued without PKCE redeemed without it', async (t) => {
  t.doesNotThrow(() => assertPkce({ storedChallenge: CHALLENGE, storedMethod: 'S256', verifier: VERIFIER }))
  t.doesNotThrow(() => assertPkce({}))
  t.doesNotThrow(() => assertPkce({ storedChallenge: null, storedMethod: null, verifier: '' }))
})

t.test('assertPkce refuses a stored plain challenge or a missing stored method', async (t) => {
  t.throws(() => assertPkce({ storedChallenge: VERIFIER, storedMethod: 'plain', verifier: VERIFIER }), { code: 'FST_RAMPART_OAUTH_INVALID_GRANT' })
  t.throws(() => assertPkce({ storedChallenge: CHALLENGE, verifier: VERIFIER }), { code: 'FST_RAMPART_OAUTH_INVALID_GRANT' })
})
