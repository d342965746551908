// Socket addresses as the host returns them (`sock-addr`: family + packed
// octets) turned into Node's strings ('127.0.0.1', '::1', '::ffff:10.0.0.1').
import type { SockAddr } from '../bridge/backend.ts';
import { AF_INET } from '../bridge/consts.ts';

export interface SocketAddress {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

function v4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function v6(hi: bigint, lo: bigint): string {
  const g: number[] = [];
  for (let i = 3; i >= 0; i--) g.push(Number((hi >> BigInt(i * 16)) & 0xffffn));
  for (let i = 3; i >= 0; i--) g.push(Number((lo >> BigInt(i * 16)) & 0xffffn));
  // IPv4-mapped: ::ffff:a.b.c.d, as Node prints it.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${v4(Number(lo & 0xffffffffn))}`;
  }
  // RFC 5952: the longest run (>= 2) of zero groups becomes '::'.
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** `undefined` when the host call failed (e.g. the peer is already gone). */
export function formatSockAddr(a: SockAddr): SocketAddress | undefined {
  if (a.ret < 0) return undefined;
  if (a.family === AF_INET) return { address: v4(Number(a.lo & 0xffffffffn)), family: 'IPv4', port: a.port };
  return { address: v6(a.hi, a.lo), family: 'IPv6', port: a.port };
}
