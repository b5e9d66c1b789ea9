#!/usr/bin/env bash
# Packs the library as npm would publish it, installs the tarball into an
# empty project, and loads it from ESM and from CommonJS (require(esm),
# Node >= 20.19) on a real Fastify app.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

tarball="$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -n 1)"
fastify_version="$(node -p "require('$root/node_modules/fastify/package.json').version")"
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts "./$tarball" "fastify@$fastify_version" >/dev/null

test ! -e node_modules/fastify-rampart/test || { echo "tests leaked into the package"; exit 1; }
test -f node_modules/fastify-rampart/dist/index.d.ts || { echo "types missing from the package"; exit 1; }

cat > esm.mjs <<'JS'
import Fastify from 'fastify'
import rampart, { securityPlugin, headersPlugin } from 'fastify-rampart'
if (rampart !== securityPlugin || typeof headersPlugin !== 'function') throw new Error('bad exports')
const app = Fastify()
await app.register(securityPlugin)
app.get('/', async () => ({ ok: true }))
const res = await app.inject('/')
if (res.headers['content-security-policy'] !== "default-src 'none'; frame-ancestors 'none'") throw new Error('ESM: no CSP')
console.log('ESM import ok')
JS
cat > cjs.cjs <<'JS'
const Fastify = require('fastify')
const { securityPlugin } = require('fastify-rampart')
const app = Fastify()
app.register(securityPlugin).after(() => {
  app.get('/', async () => ({ ok: true }))
})
app.inject('/').then((res) => {
  if (res.headers['x-frame-options'] !== 'DENY') throw new Error('CJS: no X-Frame-Options')
  console.log('CommonJS require ok')
})
JS
node esm.mjs
node cjs.cjs
