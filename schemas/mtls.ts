import Type, { type Static } from 'typebox'
import type { MtlsAuthorizer } from '../plugins/mtls/authorizers.js'

const Authorizer = Type.Unsafe<MtlsAuthorizer>({
  type: 'function',
  errorMessage: 'must be a function (id, chain) => boolean, e.g. authorizeID(...), authorizeMemberOf(...), authorizeAny()',
})
const FilePath = Type.String({ minLength: 1, errorMessage: 'must be a file path' })
const TrustDomain = Type.String({
  pattern: '^[a-z0-9._-]+$',
  errorMessage: 'must be a trust domain name: lowercase letters, digits, ".", "_" or "-"',
})
const Pem = Type.String({ pattern: '-----BEGIN CERTIFICATE-----', errorMessage: 'must be PEM certificates' })

/** Certificate, key and bundle files, as SPIRE's spiffe-helper (or any SPIFFE helper) writes them. */
export const MtlsFilesSchema = Type.Object(
  {
    /** The server's own SVID (leaf first, then intermediates), PEM. */
    cert: FilePath,
    /** Its private key, PEM. */
    key: FilePath,
    /** The trust bundle (CA certificates) of the server's own trust domain, PEM. */
    bundle: Type.Optional(FilePath),
  },
  { additionalProperties: false }
)

/** Trust domain name → its bundle (PEM CA certificates), for federated trust domains. */
const TrustBundles = Type.Record(TrustDomain, Pem)

export const MtlsServerOptionsSchema = Type.Object(
  {
    cert: FilePath,
    key: FilePath,
    bundle: Type.Optional(FilePath),
    trustBundles: Type.Optional(TrustBundles),
  },
  { additionalProperties: false }
)

export const MtlsOptionsSchema = Type.Object(
  {
    /** Who may call: required, there is no "any peer" default (name `authorizeAny()` to mean that). */
    authorize: Authorizer,
    /** Files to read the bundle from and, with `watch`, to reload the server's certificate from. */
    files: Type.Optional(MtlsFilesSchema),
    /** Reload the server's secure context when a file in `files` changes. */
    watch: Type.Optional(Type.Boolean({ default: false })),
    /** Wait this long after the last change before reloading (helpers write cert, key and bundle one by one). */
    watchDebounceMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000, default: 200 })),
    /** The trust domain `files.bundle` belongs to; default: the one in the server certificate's SPIFFE ID. */
    trustDomain: Type.Optional(TrustDomain),
    /** More trust domains' bundles: a peer's chain must end at the bundle of its own ID's trust domain. */
    trustBundles: Type.Optional(TrustBundles),
    /** Honour Envoy's `x-forwarded-client-cert` on connections from these proxies' own SPIFFE IDs only. */
    forwardedClientCert: Type.Optional(
      Type.Object(
        { proxies: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }) },
        { additionalProperties: false }
      )
    ),
  },
  { additionalProperties: false }
)

export const MtlsRouteSchema = Type.Union([
  Type.Literal(false),
  Type.Object({ authorize: Type.Optional(Authorizer) }, { additionalProperties: false }),
])

export type MtlsFiles = Static<typeof MtlsFilesSchema>
export type MtlsServerFiles = Static<typeof MtlsServerOptionsSchema>
export type MtlsOptions = Static<typeof MtlsOptionsSchema>
/** `config.security.mtls`: `false` turns the check off for the route; `{ authorize }` replaces the plugin's authorizer. */
export type MtlsRouteConfig = Static<typeof MtlsRouteSchema>
