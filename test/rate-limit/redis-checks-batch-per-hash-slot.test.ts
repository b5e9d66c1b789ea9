import type { Redis } from 'ioredis'
import t from 'tap'
import { Deadlines } from '../../lib/with-timeout.js'
import type { GcraParams } from '../../plugins/rate-limit/gcra.js'
import { GcraBatcher, groupBySlot, hashSlot, type SendBatch } from '../../plugins/rate-limit/redis-batch.js'
import { RedisStore } from '../../plugins/rate-limit/redis-store.js'

// No Redis here: the batching and the per-slot split, against a fake send.

const params: GcraParams = { limit: 10, windowMs: 1000, burst: 10 }

t.test('hash slots are Redis Cluster slots: of the first non-empty {tag}, else of the whole key', async (t) => {
  // Values from CLUSTER KEYSLOT.
  t.equal(hashSlot('foo'), 12182)
  t.equal(hashSlot('123456789'), 12739)
  t.equal(hashSlot('{user1000}.following'), hashSlot('user1000'))
  t.equal(hashSlot('a{}b'), 13694, 'an empty tag hashes the whole key')
  t.equal(hashSlot('a{b'), 13340, 'an open brace alone hashes the whole key')
  t.equal(hashSlot('p{a}{b}'), hashSlot('a'), 'the first tag wins')
  t.equal(hashSlot('x{é😀}y'), 14663, 'UTF-8 bytes')
  t.equal(hashSlot('rampart:rl:{default|ip|127.0.0.1}'), hashSlot('default|ip|127.0.0.1'))
})

t.test('grouping by slot keeps the order of checks within each slot', async (t) => {
  const checks = ['{a}1', '{b}1', '{a}2', '{c}1', '{b}2', '{a}3'].map((key) => ({ key }))
  const groups = groupBySlot(checks, hashSlot)
  t.same(groups.map((g) => g.map((c) => c.key)), [['{a}1', '{a}2', '{a}3'], ['{b}1', '{b}2'], ['{c}1']])
  t.same(groupBySlot(checks, () => 0).map((g) => g.length), [6], 'one slot, one group')
})

interface Sent { keys: string[]; args: string[] }

function fakeSend (answer: (sent: Sent) => Promise<number[]>): { send: SendBatch; sent: Sent[] } {
  const sent: Sent[] = []
  return {
    sent,
    send: (keys, args) => {
      const call = { keys, args }
      sent.push(call)
      return answer(call)
    },
  }
}

const allowAll = async ({ keys }: Sent) => keys.flatMap(() => [1, 0])

t.test('checks of one event-loop iteration go out as one call, each caller gets its own answer', async (t) => {
  const { send, sent } = fakeSend(async ({ keys }) => keys.flatMap((_key, i) => (i === 1 ? [0, 1_000_000] : [1, i * 100_000])))
  const batcher = new GcraBatcher({ send, slotOf: undefined, deadlines: new Deadlines(1000) })
  const answers = await Promise.all([
    batcher.check('{a}', '100', '1000', params, 1),
    batcher.check('{b}', '100', '1000', params, 2),
    batcher.check('{a}', '100', '1000', params, -1),
  ])
  t.same(sent, [{ keys: ['{a}', '{b}', '{a}'], args: ['100', '1000', '1', '100', '1000', '2', '100', '1000', '-1'] }])
  t.same(answers.map((a) => a.allowed), [true, false, true])
  t.same(answers.map((a) => a.remaining), [9, 0, 9], 'each decided from the debt the script saw before it')
  await batcher.check('{c}', '100', '1000', params, 1)
  t.equal(sent.length, 2, 'a later iteration, a new call')
})

t.test('on a Cluster, one call per hash slot', async (t) => {
  const { send, sent } = fakeSend(allowAll)
  const batcher = new GcraBatcher({ send, slotOf: hashSlot, deadlines: new Deadlines(1000) })
  await Promise.all(['p:{x}', 'p:{y}', 'p:{x}'].map((key) => batcher.check(key, '100', '1000', params, 1)))
  t.same(sent.map((s) => s.keys), [['p:{x}', 'p:{x}'], ['p:{y}']])
})

t.test('a failed call fails its own checks only; a send that throws fails them too', async (t) => {
  const { send } = fakeSend(async ({ keys }) => {
    if (keys[0] === '{bad}') throw new Error('CROSSSLOT')
    return allowAll({ keys, args: [] })
  })
  const batcher = new GcraBatcher({ send, slotOf: hashSlot, deadlines: new Deadlines(1000) })
  const [good, bad] = await Promise.allSettled([batcher.check('{good}', '100', '1000', params, 1), batcher.check('{bad}', '100', '1000', params, 1)])
  t.equal(good.status, 'fulfilled')
  t.match(bad, { status: 'rejected', reason: { message: 'CROSSSLOT' } })
  const throwing = new GcraBatcher({
    send: () => {
      throw new Error('not connected')
    },
    slotOf: undefined,
    deadlines: new Deadlines(1000),
  })
  await t.rejects(throwing.check('{a}', '100', '1000', params, 1), { message: 'not connected' }, 'rejected, not thrown in setImmediate')
})

t.test('a call that never answers fails every check of its batch at the one deadline', async (t) => {
  const batcher = new GcraBatcher({ send: () => new Promise(() => {}), slotOf: hashSlot, deadlines: new Deadlines(20) })
  const results = await Promise.allSettled([batcher.check('{a}', '100', '1000', params, 1), batcher.check('{b}', '100', '1000', params, 1)])
  t.same(results.map((r) => r.status === 'rejected' && (r.reason as Error).message), ['store did not answer within 20 ms', 'store did not answer within 20 ms'])
})

t.test('the store splits per slot on an ioredis Cluster (with its keyPrefix), not on a single Redis', async (t) => {
  function fakeClient (isCluster: boolean, keyPrefix?: string) {
    const calls: string[][] = []
    const client = {
      isCluster,
      options: { keyPrefix },
      status: 'ready',
      defineCommand (name: string) {
        ;(client as Record<string, unknown>)[name] = async (count: number, keys: string[]) => {
          calls.push(keys)
          return Array.from({ length: count }, () => [1, 0]).flat()
        }
      },
    }
    return { client: client as unknown as Redis, calls }
  }
  const cluster = fakeClient(true)
  const store = new RedisStore({ redis: cluster.client, prefix: 'rl:', timeoutMs: 1000 })
  await Promise.all(['a', 'b', 'a'].map((key) => store.consume(key, params, 1)))
  t.same(cluster.calls, [['rl:{a}', 'rl:{a}'], ['rl:{b}']])
  // ioredis prepends keyPrefix before hashing: a tag in it puts every key in one slot.
  const tagged = fakeClient(true, '{app}:')
  const one = new RedisStore({ redis: tagged.client, prefix: 'rl:', timeoutMs: 1000 })
  await Promise.all(['a', 'b', 'a'].map((key) => one.consume(key, params, 1)))
  t.same(tagged.calls, [['rl:{a}', 'rl:{b}', 'rl:{a}']])
  const single = fakeClient(false)
  const plain = new RedisStore({ redis: single.client, prefix: 'rl:', timeoutMs: 1000 })
  await Promise.all(['a', 'b', 'a'].map((key) => plain.consume(key, params, 1)))
  t.same(single.calls, [['rl:{a}', 'rl:{b}', 'rl:{a}']])
})
