/**
 * The key an address is limited under. One IPv6 host usually holds a whole /64 (RFC 4291 §2.5.1,
 * RFC 7421 §1: SLAAC and privacy addresses pick the low 64 bits freely), so per-address limits and
 * lockouts count an IPv6 source by its /64 prefix; otherwise one attacker would have 2^64 buckets.
 * IPv4 counts by the full address; an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) counts as its IPv4
 * address. Anything that is not an IP literal is kept as it is.
 */
import { isIP } from 'node:net';

export function addressKey(address: string): string {
  const zone = address.indexOf('%'); // a zone id (fe80::1%eth0) names an interface, not a host
  const bare = zone < 0 ? address : address.slice(0, zone);
  const family = isIP(bare);
  if (family === 4) return bare;
  if (family !== 6) return address;
  const groups = ipv6Groups(bare);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 literal (`::` expanded, a trailing dotted quad converted). */
function ipv6Groups(text: string): number[] {
  let tail: number[] = [];
  let rest = text;
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[2]!.split('.').map(Number) as [number, number, number, number];
    tail = [(a << 8) | b, (c << 8) | d];
    rest = dotted[1]!.endsWith('::') ? dotted[1]! : dotted[1]!.slice(0, -1);
  }
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const gap = rest.indexOf('::');
  if (gap < 0) return [...parse(rest), ...tail];
  const head = parse(rest.slice(0, gap));
  const after = [...parse(rest.slice(gap + 2)), ...tail];
  return [...head, ...Array<number>(8 - head.length - after.length).fill(0), ...after];
}
