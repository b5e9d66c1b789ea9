import { type FSWatcher, watch } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { createSecureContext, type SecureContextOptions } from 'node:tls'
import type { X509Certificate } from 'node:crypto'
import { parseBundle } from './chain.js'

export interface TlsFiles {
  cert: string
  key: string
  bundle?: string
}

export interface Material {
  cert: string
  key: string
  /** Undefined when `files` has no bundle. */
  bundle?: string
}

export interface RotationOptions {
  files: TlsFiles
  /** What was loaded at startup. */
  current: Material
  debounceMs: number
  /** PEM bundles of other trust domains, kept in `ca` on every reload. */
  extraCa: readonly string[]
  /** Installs a new context (`server.setSecureContext`). */
  install: (options: SecureContextOptions) => void
  /** The own trust domain's new roots. */
  onBundle: (roots: X509Certificate[]) => void
  onReload: () => void
  onError: (err: Error) => void
}

async function readMaterial (files: TlsFiles): Promise<Material> {
  const [cert, key, bundle] = await Promise.all([
    readFile(files.cert, 'utf8'),
    readFile(files.key, 'utf8'),
    files.bundle === undefined ? undefined : readFile(files.bundle, 'utf8'),
  ])
  return { cert, key, bundle }
}

/**
 * Watches the directories holding the files (a helper that renames a new
 * file into place, or Kubernetes swapping a `..data` symlink, changes the
 * directory, not the old file) and, once writes settle, rebuilds the TLS
 * context. A new set that does not load keeps the running one.
 */
export function watchMaterial (options: RotationOptions): { reload: () => Promise<void>; close: () => void } {
  let current = options.current
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> = Promise.resolve()

  async function load (): Promise<void> {
    const next = await readMaterial(options.files)
    if (next.cert === current.cert && next.key === current.key && next.bundle === current.bundle) return
    const roots = next.bundle === undefined ? undefined : parseBundle(next.bundle)
    const ca = [...(next.bundle === undefined ? [] : [next.bundle]), ...options.extraCa]
    const secure = { cert: next.cert, key: next.key, ca }
    // Throws on a PEM that does not parse or a key that does not match the certificate.
    createSecureContext(secure)
    options.install(secure)
    current = next
    if (roots !== undefined) options.onBundle(roots)
    options.onReload()
  }

  function reload (): Promise<void> {
    running = running.then(load).catch(options.onError)
    return running
  }

  function schedule (): void {
    clearTimeout(timer)
    timer = setTimeout(reload, options.debounceMs)
  }

  const dirs = new Set([options.files.cert, options.files.key, options.files.bundle].filter((f) => f !== undefined).map((f) => dirname(f)))
  const watchers: FSWatcher[] = [...dirs].map((dir) => watch(dir, { persistent: false }, schedule))
  for (const watcher of watchers) watcher.on('error', options.onError)
  return {
    reload,
    close () {
      clearTimeout(timer)
      for (const watcher of watchers) watcher.close()
    },
  }
}
