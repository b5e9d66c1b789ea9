import { readFileSync } from 'node:fs'
import { invalidOptions } from '../../lib/errors.js'
import { checkOptions } from '../../lib/options.js'
import { type MtlsServerFiles, MtlsServerOptionsSchema } from '../../schemas/mtls.js'

/** What `Fastify({ https })` needs for a listener that requires SPIFFE client certificates. */
export interface MtlsHttpsOptions {
  requestCert: true
  rejectUnauthorized: true
  minVersion: 'TLSv1.2'
  cert: string
  key: string
  ca: string[]
}

/** Reads a file for the options, or records why it cannot be read (the error code, never the content). */
export function readOption (path: string, field: string, problems: string[]): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    problems.push(`${field}: cannot be read (${(err as NodeJS.ErrnoException).code})`)
    return ''
  }
}

/**
 * HTTPS options for Fastify that require a client certificate from one of
 * the bundles, over TLS 1.2 or later. Authentication only: register
 * `mtlsPlugin` to authorize the peer's SPIFFE ID.
 */
export function mtlsServerOptions (files: MtlsServerFiles): MtlsHttpsOptions {
  const checked = checkOptions<MtlsServerFiles>(MtlsServerOptionsSchema, files, 'mtlsServerOptions')
  const problems: string[] = []
  if (checked.bundle === undefined && checked.trustBundles === undefined) {
    problems.push('mtlsServerOptions: give bundle (a file) or trustBundles (PEM per trust domain)')
  }
  const cert = readOption(checked.cert, 'mtlsServerOptions.cert', problems)
  const key = readOption(checked.key, 'mtlsServerOptions.key', problems)
  const ca = checked.bundle === undefined ? [] : [readOption(checked.bundle, 'mtlsServerOptions.bundle', problems)]
  if (problems.length > 0) throw invalidOptions(problems)
  return {
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    cert,
    key,
    ca: [...ca, ...Object.values(checked.trustBundles ?? {})],
  }
}
