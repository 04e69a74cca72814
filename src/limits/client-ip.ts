/**
 * The address a request comes from. `X-Forwarded-For` is believed only hop by hop from configured
 * proxies (RFC 9700 §4.13, SECURITY BCP-12): starting at the socket peer, while the current address
 * is a trusted proxy, step to the entry it appended. A client cannot pick its own rate-limit key.
 */
import { BlockList, isIP } from 'node:net';
import type { HttpRequest } from '../wire/http.ts';

export type ClientIp = (req: Pick<HttpRequest, 'ip' | 'headersDistinct'>) => string;

export function clientIpResolver(trustedProxies: readonly string[]): ClientIp {
  if (trustedProxies.length === 0) return (req) => normalise(req.ip);
  const trusted = new BlockList();
  for (const entry of trustedProxies) {
    const [addr, bits] = entry.split('/') as [string, string | undefined];
    const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) trusted.addAddress(addr, type);
    else trusted.addSubnet(addr, Number(bits), type);
  }
  const isTrusted = (a: string) => trusted.check(a, isIP(a) === 6 ? 'ipv6' : 'ipv4');
  return (req) => {
    let addr = normalise(req.ip);
    const hops = (req.headersDistinct['x-forwarded-for'] ?? []).join(',').split(',').map((s) => s.trim()).filter(Boolean);
    while (isTrusted(addr) && hops.length > 0) {
      const next = normalise(hops.pop()!);
      if (isIP(next) === 0) break;
      addr = next;
    }
    return addr;
  };
}

/** `::ffff:1.2.3.4` (IPv4 on a dual-stack socket) → `1.2.3.4`. */
function normalise(addr: string): string {
  return addr.startsWith('::ffff:') && isIP(addr.slice(7)) === 4 ? addr.slice(7) : addr;
}
