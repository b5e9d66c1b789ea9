import { X509Certificate } from 'node:crypto'
import type { SecureContextOptions, Server as TlsServer, TLSSocket } from 'node:tls'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { Compile } from 'typebox/compile'
import { invalidOptions, invalidRouteConfig, MtlsForbiddenError, MtlsRequiredError } from '../../lib/errors.js'
import { createLogLimiter } from '../../lib/log-limiter.js'
import { collectOptions, withoutRegisterKeys } from '../../lib/options.js'
import { addStep, fusedPlugin } from '../../lib/steps.js'
import { attachToRoute, explainRouteConfig, routeName, routeSecurityConfig, declareSecurityKey } from '../../lib/route-config.js'
import { type MtlsOptions, MtlsOptionsSchema, type MtlsRouteConfig, MtlsRouteSchema } from '../../schemas/mtls.js'
import type { MtlsAuthorizer } from './authorizers.js'
import { parseBundle } from './chain.js'
import { leafFacts } from './der.js'
import { idFromUris, peerChain, type PeerVerdict, verifyPeer } from './peer.js'
import { type Material, watchMaterial } from './rotation.js'
import { readOption } from './server-options.js'
import { checkSpiffeId, type SpiffeId } from './spiffe-id.js'
import { forwardedId } from './xfcc.js'
import { routeConfigOf } from '../../lib/route-context.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The authorized peer's SPIFFE ID (the forwarded client's behind a trusted proxy); null where mTLS is off. */
    spiffeId: SpiffeId | null
  }
}

// Until securityPlugin lists `mtls` itself, this makes `config.security.mtls` typed.
declare module '../../schemas/security.js' {
  interface SecurityRouteConfig {
    mtls?: MtlsRouteConfig
  }
}

type Resolved = Omit<MtlsOptions, 'watch' | 'watchDebounceMs'> & { watch: boolean; watchDebounceMs: number }

const RouteConfigCheck = Compile(MtlsRouteSchema)
const XFCC = 'x-forwarded-client-cert'
const LOG_INTERVAL_MS = 10_000

function body (statusCode: number, code: string, error: string, message: string): string {
  return JSON.stringify({ statusCode, code, error, message })
}
const REQUIRED = body(401, 'FST_RAMPART_MTLS_REQUIRED', 'Unauthorized', new MtlsRequiredError().message)
const FORBIDDEN = body(403, 'FST_RAMPART_MTLS_FORBIDDEN', 'Forbidden', new MtlsForbiddenError().message)

type Verdict = PeerVerdict & { proxy?: boolean }

function isTlsServer (server: unknown): server is TlsServer {
  return typeof (server as Partial<TlsServer>).setSecureContext === 'function'
}

// setSecureContext resets every TLS setting it is not handed; carry the
// server's own over, from the fields Node itself keeps them in.
const KEPT_SETTINGS = ['minVersion', 'maxVersion', 'ciphers', 'sigalgs', 'ecdhCurve', 'dhparam', 'secureProtocol', 'secureOptions', 'honorCipherOrder', 'crl', 'sessionIdContext'] as const

function install (server: TlsServer, secure: SecureContextOptions): void {
  const kept: Record<string, unknown> = {}
  for (const key of KEPT_SETTINGS) {
    const value = (server as unknown as Record<string, unknown>)[key]
    if (value !== undefined) kept[key] = value
  }
  server.setSecureContext({ ...kept, ...secure })
}

function bundleOf (pem: string, field: string, problems: string[]): X509Certificate[] {
  try {
    return parseBundle(pem)
  } catch (err) {
    problems.push(`${field}: ${(err as Error).message}`)
    return []
  }
}

/** The server's own SPIFFE ID (its trust domain is that of `files.bundle`), or why there is none. */
function ownTrustDomain (certPem: string): SpiffeId | string {
  try {
    return idFromUris(leafFacts(new X509Certificate(certPem).raw).uris)
  } catch {
    return 'the certificate does not parse'
  }
}

async function mtlsPlugin (fastify: FastifyInstance, options: MtlsOptions): Promise<void> {
  const problems: string[] = []
  const resolved = collectOptions<Resolved>(MtlsOptionsSchema, withoutRegisterKeys(options), 'mtls', problems)
  if (problems.length > 0) throw invalidOptions(problems)

  const bundles = new Map<string, readonly X509Certificate[]>()
  for (const [trustDomain, pem] of Object.entries(resolved.trustBundles ?? {})) {
    bundles.set(trustDomain, bundleOf(pem, `mtls.trustBundles.${trustDomain}`, problems))
  }
  const files = resolved.files
  let material: Material | undefined
  let ownDomain: string | undefined
  let fixedOwn: readonly X509Certificate[] = []
  if (files !== undefined) {
    material = { cert: readOption(files.cert, 'mtls.files.cert', problems), key: readOption(files.key, 'mtls.files.key', problems) }
    if (files.bundle !== undefined) {
      material.bundle = readOption(files.bundle, 'mtls.files.bundle', problems)
      const fromCert = material.cert === '' ? undefined : ownTrustDomain(material.cert)
      ownDomain = resolved.trustDomain ?? (typeof fromCert === 'string' ? undefined : fromCert?.trustDomain)
      if (ownDomain === undefined && bundles.size === 0 && typeof fromCert === 'string') {
        problems.push(`mtls.trustDomain: is required when files.cert has no SPIFFE ID to take it from (${fromCert})`)
      } else if (ownDomain === undefined) {
        // Only the TLS layer trusts files.bundle then: fewer anchors for the ID check, never more.
        fastify.log.warn('fastify-rampart: mtls cannot tell which trust domain files.bundle belongs to (set trustDomain); only trustBundles vouch for SPIFFE IDs')
      } else if (material.bundle !== '') {
        // Roots given in trustBundles for the same trust domain stay trusted beside the file's.
        fixedOwn = bundles.get(ownDomain) ?? []
        bundles.set(ownDomain, [...bundleOf(material.bundle, 'mtls.files.bundle', problems), ...fixedOwn])
      }
    }
  }
  if (bundles.size === 0 && problems.length === 0) problems.push('mtls: give files.bundle or trustBundles: a peer is only trusted through its trust domain\'s bundle')
  if (resolved.watch && files === undefined) problems.push('mtls.watch: needs files to watch')
  if (resolved.watch && !isTlsServer(fastify.server)) problems.push('mtls.watch: the server is not HTTPS (create Fastify with https: mtlsServerOptions(...))')
  const proxies = new Set<string>()
  for (const [i, proxy] of (resolved.forwardedClientCert?.proxies ?? []).entries()) {
    const id = checkSpiffeId(proxy)
    if (typeof id === 'string') problems.push(`mtls.forwardedClientCert.proxies[${i}]: ${id}`)
    else proxies.add(id.toString())
  }
  if (problems.length > 0) throw invalidOptions(problems)

  const authorize = resolved.authorize
  const logLimiter = createLogLimiter(LOG_INTERVAL_MS)
  // A connection's peer is judged once; TLS renegotiation, which could swap it, is turned off below.
  const verdicts = new WeakMap<object, Verdict>()

  const extraCa = Object.values(resolved.trustBundles ?? {})
  if (isTlsServer(fastify.server) && material !== undefined && extraCa.length > 0) {
    // The TLS layer must accept every trust domain's chains before this plugin can tell them apart.
    try {
      install(fastify.server, { cert: material.cert, key: material.key, ca: [...(material.bundle === undefined ? [] : [material.bundle]), ...extraCa] })
    } catch (err) {
      throw invalidOptions([`mtls.files: the certificate and key do not load (${(err as Error).message})`])
    }
  }
  if (resolved.watch) {
    const server = fastify.server as unknown as TlsServer
    const rotation = watchMaterial({
      files: files!,
      current: material!,
      debounceMs: resolved.watchDebounceMs,
      extraCa,
      install: (secure) => install(server, secure),
      onBundle: (roots) => bundles.set(ownDomain!, [...roots, ...fixedOwn]),
      onReload: () => fastify.log.info({ files }, 'fastify-rampart: mTLS certificate files reloaded'),
      onError: (err) => fastify.log.error({ err: { message: err.message }, files }, 'fastify-rampart: mTLS certificate files could not be reloaded; keeping the current ones'),
    })
    fastify.addHook('onClose', async function rampartMtlsStopWatching () {
      rotation.close()
    })
  }
  if (isTlsServer(fastify.server)) {
    fastify.server.on('secureConnection', function rampartMtlsNoRenegotiation (socket: TLSSocket) {
      socket.disableRenegotiation()
    })
  }
  if (!fastify.hasRequestDecorator('spiffeId')) fastify.decorateRequest('spiffeId', null)

  const kRoute = Symbol('rampart.mtls.route')
  // Routes naming config.security.mtls in this scope are served: the key checker knows it (lib/route-config.ts).
  declareSecurityKey(fastify, 'mtls')
  fastify.addHook('onRoute', function rampartMtlsRoute (routeOptions: RouteOptions) {
    const own = routeSecurityConfig(routeOptions, 'mtls')
    if (own === undefined) return
    if (!RouteConfigCheck.Check(own)) {
      const routeProblems: string[] = []
      explainRouteConfig(MtlsRouteSchema, own, 'config.security.mtls', routeProblems)
      throw invalidRouteConfig(routeName(routeOptions), routeProblems)
    }
    attachToRoute(routeOptions, kRoute, own === false ? null : own.authorize ?? authorize)
  })

  function judge (socket: TLSSocket): Verdict {
    const authorized = socket.authorized === true
    const verdict: Verdict = verifyPeer(authorized, authorized ? peerChain(socket) : [], bundles, Date.now())
    if (verdict.ok && proxies.has(verdict.id.toString())) verdict.proxy = true
    return verdict
  }

  /** Sends the 401/403; false, for the step: the request is answered. */
  function refuse (request: FastifyRequest, reply: FastifyReply, status: 401 | 403, reason: string, id: SpiffeId | undefined): false {
    const suppressed = logLimiter.take()
    if (suppressed >= 0) request.log.warn({ spiffeId: id?.toString(), reason, suppressed }, 'fastify-rampart: mTLS peer refused')
    // Sent, not thrown: an app's error handler cannot turn it into a 500.
    reply.code(status).type('application/json; charset=utf-8').send(status === 401 ? REQUIRED : FORBIDDEN)
    return false
  }

  function rampartMtls (request: FastifyRequest, reply: FastifyReply): boolean {
    const own = (routeConfigOf(request) as unknown as Record<symbol, MtlsAuthorizer | null | undefined>)[kRoute]
    const check = own === undefined ? authorize : own
    const headers = request.headers
    const xfcc = headers[XFCC]
    if (check === null) {
      // Nothing vouches for the header here: no later code may read it.
      if (xfcc !== undefined) delete headers[XFCC]
      return true
    }
    const socket = request.raw.socket as TLSSocket
    let verdict = verdicts.get(socket)
    if (verdict === undefined) {
      verdict = judge(socket)
      verdicts.set(socket, verdict)
    }
    if (xfcc !== undefined && verdict.proxy !== true) delete headers[XFCC]
    if (!verdict.ok) return refuse(request, reply, verdict.status, verdict.reason, verdict.id)
    let id = verdict.id
    let chain: readonly X509Certificate[] = verdict.chain
    if (verdict.proxy === true) {
      if (xfcc === undefined) return refuse(request, reply, 401, 'the trusted proxy forwarded no client certificate', id)
      const forwarded = forwardedId(String(xfcc))
      if (typeof forwarded === 'string') return refuse(request, reply, 403, forwarded, id)
      id = forwarded
      chain = []
    }
    let allowed: boolean
    try {
      allowed = check(id, chain) === true
    } catch (err) {
      request.log.error({ err: { message: (err as Error).message }, spiffeId: id.toString() }, 'fastify-rampart: mTLS authorizer threw; refused')
      allowed = false
    }
    if (!allowed) return refuse(request, reply, 403, 'refused by the authorizer', id)
    request.spiffeId = id
    return true
  }

  addStep(fastify, 'rampartMtls', rampartMtls)
}

export default fp(fusedPlugin('rampartMtls', mtlsPlugin), { fastify: '5.x', name: 'fastify-rampart-mtls' })
