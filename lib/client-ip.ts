import ipaddr from 'ipaddr.js'

/**
 * The rate-limit key for a client address (from Fastify's `request.ip`,
 * which honours trustProxy; never a raw X-Forwarded-For). IPv4 as is;
 * IPv4-mapped IPv6 as its IPv4; other IPv6 grouped by prefix, since one
 * subscriber usually holds a whole /64 and could otherwise rotate through
 * 2^64 addresses.
 */
export function ipKey (ip: string | undefined, ipv6Prefix: number): string {
  if (ip === undefined || ip === '') return 'unknown'
  if (!ip.includes(':')) return ip
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

/** Compiles IPs and CIDRs (v4 and v6) into a matcher; bad entries are pushed onto `problems`. */
export function compileAddresses (entries: string[], path: string, problems: string[]): AddressMatcher {
  const exact = new Set<string>()
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = []
  entries.forEach((entry, i) => {
    try {
      if (entry.includes('/')) {
        const [address, bits] = ipaddr.parseCIDR(entry)
        // ::ffff:10.0.0.0/104 is 10.0.0.0/8: clients are compared in IPv4 form.
        const mapped = address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()
        ranges.push(mapped ? [(address as ipaddr.IPv6).toIPv4Address(), bits - 96] : [address, bits])
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
    for (const [range, bits] of ranges) {
      if (range.kind() === parsed.kind() && parsed.match(range as never, bits)) return true
    }
    return false
  }
}
