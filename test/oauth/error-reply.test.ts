import t from 'tap'
import { invalidGrant, OAuthInvalidGrantError } from '../../lib/errors.js'
import { oauthErrorReply } from '../../oauth/error-reply.js'
import { headersOf, makeApp } from '../helpers.js'

async function answer (t: Parameters<typeof makeApp>[0], error: unknown, headers: Record<string, string> = {}) {
  const app = makeApp(t)
  app.post('/token', async (_request, reply) => oauthErrorReply(reply, error))
  return app.inject({ method: 'POST', url: '/token', headers })
}

t.test('invalid_grant from the helpers answers 400 with the RFC 6749 §5.2 body, never cached', async (t) => {
  const res = await answer(t, invalidGrant('refresh token already used'))
  t.equal(res.statusCode, 400)
  t.same(headersOf(res), { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
  t.same(res.json(), { error: 'invalid_grant', error_description: 'refresh token already used' })
})

t.test('the exported error class carries the RFC fields itself', async (t) => {
  const err = new OAuthInvalidGrantError('code expired')
  t.ok(err instanceof Error)
  t.ok(err instanceof OAuthInvalidGrantError)
  t.match(err, { code: 'FST_RAMPART_OAUTH_INVALID_GRANT', statusCode: 400, message: 'code expired', error: 'invalid_grant', error_description: 'code expired' })
  t.match(new OAuthInvalidGrantError(), { message: 'invalid grant', error_description: 'invalid grant' })
  const res = await answer(t, err)
  t.equal(res.statusCode, 400)
  t.same(res.json(), { error: 'invalid_grant', error_description: 'code expired' })
})

t.test('a thrown invalid_grant not caught by the route gets Fastify\'s error shape', async (t) => {
  const app = makeApp(t)
  app.post('/token', async () => { throw invalidGrant('refresh token revoked') })
  const res = await app.inject({ method: 'POST', url: '/token' })
  t.equal(res.statusCode, 400)
  t.same(res.json(), { statusCode: 400, code: 'FST_RAMPART_OAUTH_INVALID_GRANT', error: 'Bad Request', message: 'refresh token revoked' })
})

t.test('invalid_client answers 401; with an Authorization header, WWW-Authenticate names its scheme', async (t) => {
  const res = await answer(t, { error: 'invalid_client', error_description: 'unknown client' })
  t.equal(res.statusCode, 401)
  t.same(headersOf(res), { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
  t.same(res.json(), { error: 'invalid_client', error_description: 'unknown client' })

  const basic = await answer(t, { error: 'invalid_client' }, { authorization: 'Basic YTpi' })
  t.equal(basic.statusCode, 401)
  t.same(headersOf(basic), { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'www-authenticate': 'Basic realm="token"' })
  t.same(basic.json(), { error: 'invalid_client' }, 'no description when none was given')

  const odd = await answer(t, { error: 'invalid_client' }, { authorization: ' ' })
  t.equal(odd.headers['www-authenticate'], 'Basic realm="token"')
})

t.test('other OAuth errors of your own answer 400', async (t) => {
  for (const error of ['invalid_request', 'unsupported_grant_type', 'invalid_scope', 'unauthorized_client']) {
    const res = await answer(t, { error, error_description: 'why' })
    t.equal(res.statusCode, 400, error)
    t.same(res.json(), { error, error_description: 'why' })
  }
})

t.test('anything that is not an OAuth error is thrown again: a 500 through the error handler, never a client error', async (t) => {
  for (const error of [new Error('Redis down'), { error: 'bad"quote' }, { error: '' }, { error: 'x', error_description: 5 }, { error: 'x', error_description: 'new\nline' }, null, 'invalid_grant']) {
    const res = await answer(t, error)
    t.equal(res.statusCode, 500, JSON.stringify(String(error)))
    t.notMatch(res.headers['cache-control'] ?? '', 'no-store')
  }
})
