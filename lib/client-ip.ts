import ipaddr from 'ipaddr.js'

/**
 * The rate-limit key for a client address (from Fastify's `request.ip`,
 * which honours trustProxy; never a raw X-Forwarded-For). IPv4 as is;
 * IPv4-mapped IPv6 as its IPv4; other IPv6 grouped by prefix, since one
 * subscriber usually holds a whole /64 and could otherwise rotate through
 * 2^64 addresses.
 */
// Parsing an IPv6 address costs microseconds, and a client sends many
// requests: remember the last keys per prefix length (bounded, cleared when full).
const IPV6_KEYS_MAX = 4096
const ipv6Keys = new Map<number, Map<string, string>>()

export function ipKey (ip: string | undefined, ipv6Prefix: number): string {
  if (ip === undefined || ip === '') return 'unknown'
  if (!ip.includes(':')) return ip
  let keys = ipv6Keys.get(ipv6Prefix)
  if (keys === undefined) ipv6Keys.set(ipv6Prefix, (keys = new Map()))
  let key = keys.get(ip)
  if (key === undefined) {
    key = ipv6KeyOf(ip, ipv6Prefix)
    if (keys.size >= IPV6_KEYS_MAX) keys.clear()
    keys.set(ip, key)
  }
  return key
}

function ipv6KeyOf (ip: string, ipv6Prefix: number): string {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6
  try {
    parsed = ipaddr.process(ip)
  } catch {
    return 'unknown'
  }
  if (parsed.kind() === 'ipv4') return parsed.toString()
  const bytes = parsed.toByteArray()
  for (let bit = ipv6Prefix; bit < 128; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7))
  return `${ipaddr.fromByteArray(bytes).toString()}/${ipv6Prefix}`
}

export interface AddressMatcher {
  (ip: string | undefined): boolean
}

/**
 * CIDR ranges of one family, indexed by prefix length: length → networks
 * (the address shifted right past its host bits). A lookup costs one Set
 * probe per distinct prefix length (at most 33 or 129), however many ranges
 * (issue 10: a scan over 100k CIDRs cost about 2 ms per request).
 */
class RangeIndex {
  readonly #byLength = new Map<number, Set<bigint>>()
  #lengths: number[] = []

  constructor (readonly bits: number) {}

  add (address: bigint, length: number): void {
    let networks = this.#byLength.get(length)
    if (networks === undefined) {
      networks = new Set()
      this.#byLength.set(length, networks)
      this.#lengths = [...this.#byLength.keys()]
    }
    networks.add(address >> BigInt(this.bits - length))
  }

  has (address: bigint): boolean {
    for (const length of this.#lengths) {
      if ((this.#byLength.get(length) as Set<bigint>).has(address >> BigInt(this.bits - length))) return true
    }
    return false
  }
}

function toBigInt (address: ipaddr.IPv4 | ipaddr.IPv6): bigint {
  let value = 0n
  for (const byte of address.toByteArray()) value = (value << 8n) | BigInt(byte)
  return value
}

/** Compiles IPs and CIDRs (v4 and v6) into a matcher; bad entries are pushed onto `problems`. */
export function compileAddresses (entries: string[], path: string, problems: string[]): AddressMatcher {
  const exact = new Set<string>()
  const ranges = { ipv4: new RangeIndex(32), ipv6: new RangeIndex(128) }
  entries.forEach((entry, i) => {
    try {
      if (entry.includes('/')) {
        const [address, bits] = ipaddr.parseCIDR(entry)
        // ::ffff:10.0.0.0/104 is 10.0.0.0/8: clients are compared in IPv4 form.
        const mapped = address.kind() === 'ipv6' && bits >= 96 && (address as ipaddr.IPv6).isIPv4MappedAddress()
        if (mapped) ranges.ipv4.add(toBigInt((address as ipaddr.IPv6).toIPv4Address()), bits - 96)
        else ranges[address.kind()].add(toBigInt(address), bits)
      } else {
        exact.add(ipaddr.process(entry).toString())
      }
    } catch {
      problems.push(`${path}[${i}]: must be an IP address or a CIDR range (10.0.0.0/8, 2001:db8::/32)`)
    }
  })
  return (ip) => {
    if (ip === undefined) return false
    let parsed: ipaddr.IPv4 | ipaddr.IPv6
    try {
      parsed = ipaddr.process(ip)
    } catch {
      return false
    }
    if (exact.has(parsed.toString())) return true
    return ranges[parsed.kind()].has(toBigInt(parsed))
  }
}
