// Types every kernel module shares: the host interface's records (from jco's
// generated `Host`, so they cannot drift from the WIT) and the kernel's options.
import type { Host } from '../../backend.ts';

export type Timespec = Parameters<Host['waitCqeTimeout']>[1];
export type CqeResult = ReturnType<Host['waitCqe']>;
export type Cqe = CqeResult['cqe'];
export type SockAddrIn = Parameters<Host['bind']>[1];
export type SockAddrIn6 = Parameters<Host['bind6']>[1];
export type SockAddr = ReturnType<Host['getsockname']>;
export type SlabRange = Parameters<Host['prepSendmsg']>[2][number];

/** A slab range resolved at prep time: the kernel holds the memory, not the handle. */
export interface IoVec {
  slab: number;
  u8: Uint8Array;
  offset: number;
  len: number;
}

export interface KernelOptions {
  /** CQ ring size; default 2 x SQ entries (as io_uring without IORING_SETUP_CQSIZE). */
  cqEntries?: number;
  /** IORING_SETUP_* flags this "kernel" refuses with -EINVAL (to exercise fallbacks). */
  refuseSetupFlags?: number;
  /** RLIMIT_NOFILE: fds >= this are -EMFILE. */
  fdLimit?: number;
  /** CPUs for pin-current-thread-to-cpu and SQ_AFF. */
  cpus?: number;
  /** Largest slab, bytes. */
  maxSlabBytes?: number;
}
