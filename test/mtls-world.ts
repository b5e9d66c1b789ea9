import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { mtlsPlugin, mtlsServerOptions, type MtlsOptions } from '../index.js'
import { type Issued, Pki } from './mtls-pki.js'

export const API_ID = 'spiffe://example.org/ns/prod/sa/api'
export const CHECKOUT_ID = 'spiffe://example.org/ns/prod/sa/checkout'
export const OTHER_ID = 'spiffe://example.org/ns/prod/sa/other'
export const ENVOY_ID = 'spiffe://example.org/ns/edge/sa/envoy'

/** The example.org trust domain: a root, an intermediate, the server's SVID and its files. */
export interface World {
  pki: Pki
  root: Issued
  int: Issued
  server: Issued
  /** SVID files as a SPIFFE helper writes them. */
  files: { cert: string; key: string; bundle: string }
  /** An example.org client under the intermediate. */
  client: (name: string, id: string) => Issued
}

export function makeWorld (name = 'w'): World {
  const pki = new Pki()
  const root = pki.root(`${name}-root`, 'example.org')
  const int = pki.intermediate(`${name}-int`, root, 'example.org')
  const server = pki.leaf(`${name}-server`, int, { uris: [API_ID], dns: ['localhost'], ips: ['127.0.0.1'] })
  const dir = join(pki.dir, 'svid')
  mkdirSync(dir)
  const files = { cert: join(dir, 'svid.pem'), key: join(dir, 'svid_key.pem'), bundle: join(dir, 'bundle.pem') }
  writeFileSync(files.cert, server.chain)
  copyFileSync(server.keyPath, files.key)
  writeFileSync(files.bundle, root.cert)
  const clients = new Map<string, Issued>()
  return {
    pki,
    root,
    int,
    server,
    files,
    client (name, id) {
      const known = clients.get(name)
      if (known !== undefined) return known
      const issued = pki.leaf(name, int, { uris: [id] })
      clients.set(name, issued)
      return issued
    },
  }
}

export interface ServeOptions {
  /** `rejectUnauthorized: false`: the handshake lets every client in and the plugin answers 401. */
  lenient?: boolean
  trustBundles?: Record<string, string>
  /** Leave trustBundles out of mtlsServerOptions: the plugin adds them to the server's context. */
  pluginOnlyBundles?: boolean
  /** More `https` options. */
  https?: Record<string, unknown>
  plugin?: Partial<MtlsOptions>
  server?: FastifyServerOptions
  routes?: (app: FastifyInstance) => void
}

/** A real HTTPS Fastify server on 127.0.0.1 with mtlsPlugin; answers `{ id, xfcc }` on `/`. */
export async function serve (t: { teardown: (fn: () => unknown) => void }, world: World, options: ServeOptions = {}): Promise<{ app: FastifyInstance; port: number }> {
  const trustBundles = options.pluginOnlyBundles === true ? undefined : options.trustBundles
  const https = { ...mtlsServerOptions({ ...world.files, trustBundles }), ...(options.lenient === true ? { rejectUnauthorized: false } : {}), ...options.https }
  const app = Fastify({ logger: false, ...options.server, https } as FastifyServerOptions)
  t.teardown(() => app.close())
  await app.register(mtlsPlugin, { files: world.files, trustBundles: options.trustBundles, ...options.plugin } as MtlsOptions)
  app.get('/', async (request) => ({ id: request.spiffeId?.toString() ?? null, xfcc: request.headers['x-forwarded-client-cert'] ?? null }))
  options.routes?.(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, port: (app.server.address() as { port: number }).port }
}

export const REQUIRED = {
  statusCode: 401,
  code: 'FST_RAMPART_MTLS_REQUIRED',
  error: 'Unauthorized',
  message: 'A trusted client certificate is required',
}

export const FORBIDDEN = {
  statusCode: 403,
  code: 'FST_RAMPART_MTLS_FORBIDDEN',
  error: 'Forbidden',
  message: 'The client certificate is not authorized for this resource',
}
