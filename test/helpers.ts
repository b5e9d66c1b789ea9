import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import Fastify, {
  type FastifyInstance,
  type FastifyServerOptions,
  type LightMyRequestResponse,
} from 'fastify'

/** Response headers minus the ones every response has (date, connection, length). */
export function headersOf (res: LightMyRequestResponse): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(res.headers)) {
    if (k === 'date' || k === 'connection' || k === 'content-length' || k === 'keep-alive') continue
    out[k] = v
  }
  return out
}

/** The zero-config set on a JSON (API) response, as the README documents it. */
export const API_DEFAULTS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'x-permitted-cross-domain-policies': 'none',
  'x-dns-prefetch-control': 'off',
}

export const HTML_PERMISSIONS =
  'accelerometer=(), browsing-topics=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), hid=(), idle-detection=(), magnetometer=(), microphone=(), midi=(), payment=(), serial=(), usb=(), xr-spatial-tracking=()'

/** The zero-config set on a text/html response. */
export const HTML_DEFAULTS = {
  ...API_DEFAULTS,
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'self'; base-uri 'self'; form-action 'self'; object-src 'none'; frame-ancestors 'none'; upgrade-insecure-requests",
  'referrer-policy': 'strict-origin-when-cross-origin',
  'permissions-policy': HTML_PERMISSIONS,
}

export const HSTS_DEFAULT = 'max-age=31536000; includeSubDomains'

/** A pino destination that keeps every line, parsed, for assertions on logs. */
export function captureLogs (): { stream: Writable; lines: { level: number; msg: string; [key: string]: unknown }[] } {
  const lines: { level: number; msg: string; [key: string]: unknown }[] = []
  const stream = new Writable({
    write (chunk, _encoding, callback) {
      lines.push(JSON.parse(String(chunk)))
      callback()
    },
  })
  return { stream, lines }
}

/** A quiet Fastify app torn down with the test. */
export function makeApp (
  t: { teardown: (fn: () => unknown) => void },
  options: FastifyServerOptions = {}
): FastifyInstance {
  const app = Fastify({ logger: false, ...options })
  t.teardown(() => app.close())
  return app
}

/** Runs `fn` and returns what it threw, for asserting on codes, messages and `problems`. */
export async function caught (fn: () => unknown): Promise<Error & { code?: string; problems?: string[] }> {
  try {
    await fn()
  } catch (err) {
    return err as Error & { code?: string; problems?: string[] }
  }
  throw new Error('expected a throw')
}

/** A throwaway self-signed certificate for 127.0.0.1 and localhost, made with the system's openssl. */
export function selfSignedCert (): { key: string; cert: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-cert-'))
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' }
  )
  return {
    key: readFileSync(join(dir, 'key.pem'), 'utf8'),
    cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    dir,
  }
}
