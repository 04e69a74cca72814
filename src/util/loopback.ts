/**
 * Whether a host is a loopback IP literal: 127.0.0.0/8 or ::1 (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3),
 * including IPv4-mapped forms of the former. Accepts a URL's `hostname`, whose IPv6 literals are
 * bracketed. A name is never a literal: `127.evil.example` is an ordinary DNS name, and `localhost`
 * is for the caller to allow or not (RFC 8252 §8.3 advises against relying on it).
 */
import { BlockList, isIP } from 'node:net';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

export function isLoopbackIp(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const family = isIP(bare);
  return family !== 0 && LOOPBACK.check(bare, family === 6 ? 'ipv6' : 'ipv4');
}
