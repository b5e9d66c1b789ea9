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
    t.same(err.problems, ['ALLOWED_HOSTS: must list the allowed hosts (comma-separated) when NODE_ENV=production (only NODE_ENV=development or test falls back to ["*"])'])
  }
  const star = await caught(() => hostsFromEnv({ env: { NODE_ENV: 'production', ALLOWED_HOSTS: 'a.example,*' } }))
  t.same(star.problems, ['ALLOWED_HOSTS: "*" trusts every Host and is refused when NODE_ENV=production (allowed only with NODE_ENV=development or test)'])
})

t.test('development and test fall back, and a set variable still wins', async (t) => {
  t.same(hostsFromEnv({ env: { NODE_ENV: 'development' } }), ['*'])
  t.same(hostsFromEnv({ env: { NODE_ENV: 'development' }, development: ['localhost:3000'] }), ['localhost:3000'])
  t.same(hostsFromEnv({ env: { NODE_ENV: 'test', ALLOWED_HOSTS: '*' } }), ['*'])
  t.same(hostsFromEnv({ env: { ALLOWED_HOSTS: 'a.example' } }), ['a.example'])
})

t.test('an unset, misspelt or custom NODE_ENV is production: no fallback, no "*"', async (t) => {
  const unset = await caught(() => hostsFromEnv({ env: {} }))
  t.same(unset.problems, ['ALLOWED_HOSTS: must list the allowed hosts (comma-separated) when NODE_ENV is unset (only NODE_ENV=development or test falls back to ["*"])'])
  for (const NODE_ENV of ['staging', 'prod', 'Production', '']) {
    const err = await caught(() => hostsFromEnv({ env: { NODE_ENV } }))
    t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS', `NODE_ENV=${NODE_ENV}`)
  }
  const star = await caught(() => hostsFromEnv({ env: { NODE_ENV: 'staging', ALLOWED_HOSTS: '*' } }))
  t.same(star.problems, ['ALLOWED_HOSTS: "*" trusts every Host and is refused when NODE_ENV=staging (allowed only with NODE_ENV=development or test)'])
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
