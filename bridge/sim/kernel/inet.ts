// inet_pton with glibc's rules, and the sockaddr record the host returns.
import * as C from '../consts.ts';
import type { SockAddr } from './types.ts';

export function sockAddr(ret: number, family: number, port: number, hi: bigint, lo: bigint): SockAddr {
  return { ret, family, port, hi, lo };
}

export function inetPton(af: number, src: string): SockAddr {
  if (af === C.AF_INET) {
    const v = parseIPv4(src);
    return v === undefined ? sockAddr(0, 0, 0, 0n, 0n) : sockAddr(1, C.AF_INET, 0, 0n, BigInt(v));
  }
  if (af === C.AF_INET6) {
    const v = parseIPv6(src);
    return v === undefined ? sockAddr(0, 0, 0, 0n, 0n) : sockAddr(1, C.AF_INET6, 0, v[0], v[1]);
  }
  return sockAddr(-C.EAFNOSUPPORT, 0, 0, 0n, 0n);
}

/** inet_pton(AF_INET): four decimal octets, no leading zeros (glibc's rules). */
export function parseIPv4(src: string): number | undefined {
  const parts = src.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v >>> 0;
}

/** inet_pton(AF_INET6): [hi, lo] of the 16 octets big-endian. */
export function parseIPv6(src: string): [bigint, bigint] | undefined {
  if (src.length === 0 || src.length > 45) return undefined;
  let tail4: number | undefined;
  let s = src;
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) return undefined;
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    tail4 = parseIPv4(last);
    if (tail4 === undefined) return undefined;
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return undefined;
  const groupsOf = (t: string): string[] | undefined => {
    if (t === '') return [];
    const g = t.split(':');
    for (const x of g) if (!/^[0-9a-fA-F]{1,4}$/.test(x)) return undefined;
    return g;
  };
  let groups: string[];
  if (dbl >= 0) {
    const a = groupsOf(s.slice(0, dbl));
    const b = groupsOf(s.slice(dbl + 2));
    if (a === undefined || b === undefined || a.length + b.length > 7) return undefined;
    groups = [...a, ...new Array<string>(8 - a.length - b.length).fill('0'), ...b];
  } else {
    const g = groupsOf(s);
    if (g === undefined || g.length !== 8) return undefined;
    groups = g;
  }
  const w = groups.map((x) => BigInt(parseInt(x, 16)));
  if (tail4 !== undefined) {
    w[6] = BigInt(tail4 >>> 16);
    w[7] = BigInt(tail4 & 0xffff);
  }
  const hi = (w[0]! << 48n) | (w[1]! << 32n) | (w[2]! << 16n) | w[3]!;
  const lo = (w[4]! << 48n) | (w[5]! << 32n) | (w[6]! << 16n) | w[7]!;
  return [hi, lo];
}
