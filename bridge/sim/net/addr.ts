// Addresses on the virtual network: every peer lives on loopback, so an
// address is a family, a port and the loopback (or v4-mapped loopback) host.
import { AF_INET6 } from '../consts.ts';

/** An address as data: v4 in the low 32 bits of `lo` (127.0.0.1 = 0x7f000001). */
export interface Addr {
  family: number;
  port: number;
  hi: bigint;
  lo: bigint;
}

export const LOOPBACK4 = 0x7f000001n;
export const V4MAPPED_LO_PREFIX = 0xffff00000000n;

/**
 * The address a client reaches the listener bound at `local` on: the wildcard
 * becomes the loopback of the client's family, seen through the listener's
 * own family (a v4 client of a dual-stack v6 socket shows as ::ffff:127.0.0.1).
 */
export function serverAddrFor(family: 4 | 6, local: Addr): Addr {
  const serverAddr: Addr = { ...local };
  if (family === 6) {
    serverAddr.hi = 0n;
    serverAddr.lo = 1n;
  } else if (local.family === AF_INET6) {
    serverAddr.hi = 0n;
    serverAddr.lo = V4MAPPED_LO_PREFIX | LOOPBACK4;
  } else {
    serverAddr.lo = LOOPBACK4;
  }
  return serverAddr;
}
