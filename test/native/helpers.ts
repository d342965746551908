// Shared helpers for the native backend tests (not a test file itself).

import { loadNativeAddon } from '../../bridge/native.ts';
import type { NativeAddon } from '../../bridge/native.ts';

export const E = {
  EPERM: 1, EBADF: 9, ENOMEM: 12, EFAULT: 14, EBUSY: 16, EEXIST: 17, EINVAL: 22, ENOSYS: 38,
  ETIME: 62, EAFNOSUPPORT: 97, ENOBUFS: 105, ECANCELED: 125,
} as const;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0x800;
export const SOCK_CLOEXEC = 0x80000;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const IPPROTO_IPV6 = 41;
export const IPV6_V6ONLY = 26;
export const SETUP = { SQPOLL: 0x2, SQ_AFF: 0x4, COOP_TASKRUN: 0x100, SINGLE_ISSUER: 0x1000, DEFER_TASKRUN: 0x2000 };
export const GETEVENTS = 1;
export const CQE_F = { BUFFER: 1, MORE: 2, SOCK_NONEMPTY: 4, BUF_MORE: 0x10 };
export const LOOPBACK4 = 0x7f000001;

export function addon(): NativeAddon {
  return loadNativeAddon();
}

/** Descriptors of the kinds the helper can leak (sockets, rings, eventfds): test/fds.ts. */
export { procFds as fdCount } from '../fds.ts';

export function ts(ms: number): { tvSec: bigint; tvNsec: bigint } {
  return { tvSec: BigInt(Math.floor(ms / 1000)), tvNsec: BigInt((ms % 1000) * 1_000_000) };
}

export interface Cqe { userData: bigint; res: number; flags: number }

export function parseCqes(bytes: Uint8Array): Cqe[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Cqe[] = [];
  for (let o = 0; o + 16 <= bytes.byteLength; o += 16) {
    out.push({ userData: dv.getBigUint64(o, true), res: dv.getInt32(o + 8, true), flags: dv.getUint32(o + 12, true) });
  }
  return out;
}

export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Reads and consumes every CQE ready now (after a GETEVENTS enter). */
export function reapNow(a: NativeAddon, ring: number): Cqe[] {
  a.enter(ring, 0, 0, GETEVENTS, undefined);
  const cqes = parseCqes(a.peekBatchCqe(ring, 256));
  if (cqes.length > 0) a.cqAdvance(ring, cqes.length);
  return cqes;
}

/**
 * Reaps CQEs, letting the JS event loop run between polls (Node's net
 * clients live there), until `done(all)` or the deadline.
 */
export async function reapUntil(a: NativeAddon, ring: number, done: (all: Cqe[]) => boolean,
  timeoutMs = 3000): Promise<Cqe[]> {
  const all: Cqe[] = [];
  const end = Date.now() + timeoutMs;
  for (;;) {
    all.push(...reapNow(a, ring));
    if (done(all)) return all;
    if (Date.now() > end) throw new Error(`timed out waiting for CQEs; got ${JSON.stringify(all, big)}`);
    await sleep(2);
  }
}

export function big(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `${v}n` : v;
}

/** Submits one SQE prepared by `prep` with user data `ud`; returns submit's result. */
export function submitOne(a: NativeAddon, ring: number, ud: bigint, prep: (sqe: number) => number): number {
  const sqe = a.getSqe(ring);
  if (sqe < 0) throw new Error(`getSqe: ${sqe}`);
  const p = prep(sqe);
  if (p !== 0) throw new Error(`prep: ${p}`);
  a.sqeSetData64(sqe, ud);
  return a.submit(ring);
}

/** A loopback IPv4 listener owned by the guest; returns [fd, port]. */
export function listen4(a: NativeAddon): [number, number] {
  const fd = a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) throw new Error(`socket: ${fd}`);
  a.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (a.bind(fd, { port: 0, addr: LOOPBACK4 }) !== 0) throw new Error('bind');
  if (a.listen(fd, 64) !== 0) throw new Error('listen');
  const name = a.getsockname(fd);
  return [fd, name.port];
}
