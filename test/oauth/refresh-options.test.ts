import t from 'tap'
import { MemoryRefreshStore } from '../../oauth/refresh-store.js'
import { createRefreshTokens } from '../../oauth/refresh-tokens.js'
import { caught } from '../helpers.js'

// A loaded machine can take longer than tap's default 30 s to load ioredis and compile.
t.setTimeout(120_000)

t.test('bad options are refused at once, every problem listed, no value echoed', async (t) => {
  const err = await caught(() =>
    createRefreshTokens({
      store: 'disk' as never,
      absoluteLifetime: '30 days' as never,
      idleLifetime: 0,
      now: 5 as never,
      log: 'console' as never,
      secret: 'hunter2',
    } as never)
  )
  t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
  t.same(err.problems, [
    "refreshTokens.store: must be 'memory', { redis, prefix?, timeoutMs? } or a store object (got string)",
    "refreshTokens.absoluteLifetime: must be integer or a duration like '30s', '15m', '1h', '14d' (got string)",
    "refreshTokens.idleLifetime: must be integer or a duration like '30s', '15m', '1h', '14d' (got number)",
    'refreshTokens.now: must be a function () => number (got number)',
    'refreshTokens.log: must be a logger such as app.log (got string)',
    'refreshTokens.secret: is not a known option',
  ])
  t.notMatch(err.message, 'hunter2')
  t.notMatch(err.message, 'disk')
})

t.test('a Redis store option is checked too', async (t) => {
  const err = await caught(() => createRefreshTokens({ store: { redis: 'http://redis', prefix: 'a{b}', timeoutMs: 0, db: 1 } as never }))
  t.same(err.problems, [
    'refreshTokens.store.redis: must be an ioredis client or a redis:// URL (got string)',
    'refreshTokens.store.prefix: must not contain { or } (got string)',
    'refreshTokens.store.timeoutMs: must be >= 1 (got number)',
    'refreshTokens.store.db: is not a known option',
  ])
})

t.test('a store object of your own needs every method', async (t) => {
  const err = await caught(() => createRefreshTokens({ store: { find: () => undefined } as never }))
  t.same(err.problems, ['refreshTokens.store: a store object needs methods create, find, rotate, revoke'])
  const list = await caught(() => createRefreshTokens({ store: [] as never }))
  t.match(list.problems, [/^refreshTokens\.store: must be 'memory'/])
})

t.test('a store of your own is used as it is, and close leaves it open', async (t) => {
  const store = new MemoryRefreshStore()
  let closed = false
  const custom = Object.assign(store, { close: async () => { closed = true } })
  const tokens = createRefreshTokens({ store: custom })
  const rt = await tokens.issue({ clientId: 'app' })
  t.ok(await store.find((await import('../../oauth/refresh-tokens.js')).hashToken(rt.token)))
  await tokens.close()
  t.equal(closed, false)
})

t.test('issue needs a grant with a clientId', async (t) => {
  const tokens = createRefreshTokens()
  const err = await caught(() => tokens.issue({ userId: 'u1' } as never))
  t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
  t.same(err.problems, ['grant.clientId: is required'])
  const empty = await caught(() => tokens.issue({ clientId: '' }))
  t.match(empty.problems, [/^grant\.clientId: /])
  const none = await caught(() => tokens.issue(undefined as never))
  t.same(none.problems, ['grant.clientId: is required'])
})

t.test('the client may be given beside the grant instead; given twice, it must agree', async (t) => {
  const tokens = createRefreshTokens()
  const rt = await tokens.issue({ userId: 'u1' }, { clientId: 'app' })
  const next = await tokens.rotate(rt.token, { clientId: 'app' })
  t.same(next.grant, { userId: 'u1' })
  t.ok(await tokens.issue({ clientId: 'app' }, { clientId: 'app' }))
  const differ = await caught(() => tokens.issue({ clientId: 'app' }, { clientId: 'other' }))
  t.same(differ.problems, ['options.clientId: must equal grant.clientId'])
  const bad = await caught(() => tokens.issue({ clientId: 5 } as never, { clientId: '', x: 1 } as never))
  t.same(bad.problems, ['grant.clientId: must be string (got number)', 'options.clientId: must not have fewer than 1 characters (got string)', 'options.x: is not a known option'])
})

t.test('the grant comes back as JSON: a copy, never the caller\'s object', async (t) => {
  const tokens = createRefreshTokens()
  const grant = { clientId: 'app', scope: ['a'], at: new Date(0) }
  const rt = await tokens.issue(grant)
  grant.scope.push('b')
  const next = await tokens.rotate(rt.token, { clientId: 'app' })
  t.same(next.grant, { clientId: 'app', scope: ['a'], at: '1970-01-01T00:00:00.000Z' })
})
