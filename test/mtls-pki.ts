import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// A throwaway PKI made with the system's openssl at test time: roots,
// intermediates and SVIDs with exactly the extensions each case needs.

export interface Issued {
  cert: string
  key: string
  /** The certificate followed by its intermediates (not the root), as a TLS peer sends it. */
  chain: string
  certPath: string
  keyPath: string
  root: boolean
}

export interface LeafOptions {
  uris?: string[]
  dns?: string[]
  ips?: string[]
  /** Sets basicConstraints CA:TRUE (a CA certificate used as a leaf). */
  ca?: boolean
  keyUsage?: string
  /** Extended key usage list; false leaves the extension out. */
  eku?: string | false
  /** Negative for a certificate that has already expired. */
  days?: number
}

export class Pki {
  readonly dir = mkdtempSync(join(tmpdir(), 'rampart-mtls-'))
  private serial = 1

  private openssl (args: string[]): void {
    execFileSync('openssl', args, { stdio: 'ignore' })
  }

  private newKey (name: string): string {
    const keyPath = join(this.dir, `${name}.key`)
    this.openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath])
    return keyPath
  }

  private files (name: string, keyPath: string, parent?: Issued): Issued {
    const certPath = join(this.dir, `${name}.pem`)
    const cert = readFileSync(certPath, 'utf8')
    const chain = parent === undefined || parent.root ? cert : cert + parent.chain
    return { cert, key: readFileSync(keyPath, 'utf8'), chain, certPath, keyPath, root: parent === undefined }
  }

  /** A self-signed root CA, optionally carrying its trust domain's ID. */
  root (name: string, trustDomain?: string): Issued {
    const keyPath = this.newKey(name)
    const ext = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']
    if (trustDomain !== undefined) ext.push('-addext', `subjectAltName=URI:spiffe://${trustDomain}`)
    this.openssl(['req', '-x509', '-new', '-key', keyPath, '-subj', `/CN=${name}`, '-days', '2', ...ext, '-out', join(this.dir, `${name}.pem`)])
    return this.files(name, keyPath)
  }

  private sign (name: string, parent: Issued, lines: string[], days: number): Issued {
    const keyPath = this.newKey(name)
    const csr = join(this.dir, `${name}.csr`)
    const extPath = join(this.dir, `${name}.ext`)
    this.openssl(['req', '-new', '-key', keyPath, '-subj', `/CN=${name}`, '-out', csr])
    writeFileSync(extPath, `[v]\n${lines.join('\n')}\n`)
    this.openssl([
      'x509', '-req', '-in', csr, '-CA', parent.certPath, '-CAkey', parent.keyPath, '-set_serial', String(this.serial++),
      '-days', String(days), '-extfile', extPath, '-extensions', 'v', '-out', join(this.dir, `${name}.pem`),
    ])
    return this.files(name, keyPath, parent)
  }

  /** An intermediate (signing) CA under `parent`. */
  intermediate (name: string, parent: Issued, trustDomain?: string): Issued {
    const lines = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign']
    if (trustDomain !== undefined) lines.push(`subjectAltName=URI:spiffe://${trustDomain}`)
    return this.sign(name, parent, lines, 2)
  }

  /** A leaf certificate (an X509-SVID when given one spiffe:// URI) under `parent`. */
  leaf (name: string, parent: Issued, options: LeafOptions = {}): Issued {
    const lines = [
      `basicConstraints=critical,CA:${options.ca === true ? 'TRUE' : 'FALSE'}`,
      `keyUsage=critical,${options.keyUsage ?? 'digitalSignature'}`,
    ]
    const eku = options.eku ?? 'clientAuth,serverAuth'
    if (eku !== false) lines.push(`extendedKeyUsage=${eku}`)
    const names = [
      ...(options.uris ?? []).map((u, i) => `URI.${i + 1}=${u}`),
      ...(options.dns ?? []).map((d, i) => `DNS.${i + 1}=${d}`),
      ...(options.ips ?? []).map((d, i) => `IP.${i + 1}=${d}`),
    ]
    if (names.length > 0) lines.push('subjectAltName=@alt', '[alt]', ...names)
    return this.sign(name, parent, lines, options.days ?? 2)
  }

  remove (): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

export interface Answer {
  status?: number
  body?: Record<string, unknown>
  /** Set when the TLS handshake or the connection failed. */
  error?: string
}

export interface CallOptions {
  /** The client's certificate chain and key; none for a client without a certificate. */
  client?: Issued
  /** Roots the client trusts for the server. */
  ca: string
  headers?: Record<string, string>
  path?: string
}

/** One request on a new TLS connection to 127.0.0.1:port. */
export function call (port: number, options: CallOptions): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: options.path ?? '/',
        ca: options.ca,
        cert: options.client?.chain,
        key: options.client?.key,
        headers: options.headers,
        agent: false,
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => { text += chunk })
        res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }))
      }
    )
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }))
    req.end()
  })
}
