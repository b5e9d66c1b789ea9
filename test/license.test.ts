import { readFileSync } from 'node:fs'
import t from 'tap'

t.test('the MIT LICENSE that package.json declares and ships exists', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { license: string; files: string[] }
  t.equal(pkg.license, 'MIT')
  t.ok(pkg.files.includes('LICENSE'))
  const text = readFileSync(new URL('../LICENSE', import.meta.url), 'utf8')
  t.match(text, /^MIT License\n\nCopyright \(c\) 2026 fastify-rampart contributors\n/)
  t.match(text, /THE SOFTWARE IS PROVIDED "AS IS"/)
})
