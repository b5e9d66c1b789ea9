import { AsnConvert } from '@peculiar/asn1-schema'
import { BasicConstraints, Certificate, ExtendedKeyUsage, KeyUsage, KeyUsageFlags, SubjectAlternativeName } from '@peculiar/asn1-x509'

// The leaf facts an X509-SVID check needs, read from the certificate's DER.
// Node's `subjectaltname` is a display string in which a DNS name such as
// `b, URI:spiffe://admin.org/ops` turns up quoted and comma-split ambiguity
// follows; `X509Certificate` exposes no key usage bits. @peculiar/x509's
// ASN.1 layer gives the exact GeneralNames and bits. (@peculiar/x509 itself
// needs a global reflect-metadata polyfill, which a library must not install.)

// RFC 5280 object identifiers.
const SUBJECT_ALT_NAME = '2.5.29.17'
const BASIC_CONSTRAINTS = '2.5.29.19'
const KEY_USAGE = '2.5.29.15'
const EXT_KEY_USAGE = '2.5.29.37'
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2'

export interface LeafFacts {
  /** Every uniformResourceIdentifier SAN, exactly as encoded. */
  uris: string[]
  /** Basic constraints say cA. */
  ca: boolean
  /** Key usage allows signing certificates or CRLs. */
  signsCertificates: boolean
  /** An extended key usage extension is present and does not list clientAuth. */
  notForClients: boolean
}

export function leafFacts (der: Uint8Array): LeafFacts {
  const cert = AsnConvert.parse(der, Certificate)
  const facts: LeafFacts = { uris: [], ca: false, signsCertificates: false, notForClients: false }
  // Every occurrence counts: a repeated extension cannot hide a second URI or a CA flag.
  for (const ext of cert.tbsCertificate.extensions ?? []) {
    const value = ext.extnValue.buffer
    if (ext.extnID === SUBJECT_ALT_NAME) {
      for (const name of AsnConvert.parse(value, SubjectAlternativeName)) {
        if (name.uniformResourceIdentifier !== undefined) facts.uris.push(name.uniformResourceIdentifier)
      }
    } else if (ext.extnID === BASIC_CONSTRAINTS) {
      if (AsnConvert.parse(value, BasicConstraints).cA) facts.ca = true
    } else if (ext.extnID === KEY_USAGE) {
      const bits = AsnConvert.parse(value, KeyUsage).toNumber()
      if ((bits & (KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)) !== 0) facts.signsCertificates = true
    } else if (ext.extnID === EXT_KEY_USAGE) {
      if (!AsnConvert.parse(value, ExtendedKeyUsage).includes(CLIENT_AUTH)) facts.notForClients = true
    }
  }
  return facts
}
