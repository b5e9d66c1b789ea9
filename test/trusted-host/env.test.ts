import t from 'tap'
import { hostsFromEnv } from '../../index.js'
import { caught } from '../helpers.js'

t.test('production reads the comma-separated list', async (t) => {
  t.same(hostsFromEnv({ env: { NODE_ENV: 'production', ALLOWED_HOSTS: ' example.com, *.example.com ,,' } }), [
    'example.com',
    '*.example.com',
  ])
  t.same(hostsFromEnv({ variable: 'HOSTS', env: { NODE_ENV: 'production', HOSTS: 'a.example' } }), ['a.example'])
})

t.test('production without the variable is a startup error, never *', async (t) => {
  for (const value of [undefined, '', ' , ']) {
    const err = await caught(() => hostsFromEnv({ env: { NODE_ENV: 'production', ALLOWED_HOSTS: value } }))
    t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
    t.same(err.problems, ['ALLOWED_HOSTS: must list the allowed hosts (comma-separated) when NODE_ENV=production'])
  }
  const star = await caught(() => hostsFromEnv({ env: { NODE_ENV: 'production', ALLOWED_HOSTS: 'a.example,*' } }))
  t.same(star.problems, ['ALLOWED_HOSTS: "*" trusts every Host and is refused when NODE_ENV=production'])
})

t.test('development falls back, and a set variable still wins', async (t) => {
  t.same(hostsFromEnv({ env: {} }), ['*'])
  t.same(hostsFromEnv({ env: { NODE_ENV: 'development' }, development: ['localhost:3000'] }), ['localhost:3000'])
  t.same(hostsFromEnv({ env: { NODE_ENV: 'test', ALLOWED_HOSTS: '*' } }), ['*'])
  t.same(hostsFromEnv({ env: { ALLOWED_HOSTS: 'a.example' } }), ['a.example'])
})

t.test('process.env is the default source', async (t) => {
  const saved = { ...process.env }
  t.teardown(() => {
    process.env = saved
  })
  process.env.NODE_ENV = 'production'
  process.env.ALLOWED_HOSTS = 'from-env.example'
  t.same(hostsFromEnv(), ['from-env.example'])
})
