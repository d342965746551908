// Ring setup and teardown. Setup refuses the flag combinations Linux refuses;
// teardown ends every request without a CQE and closes the accepted fds no
// one will learn about.
import * as C from '../consts.ts';
import { dropUnread } from './completion.ts';
import { PlainFile } from './files.ts';
import { retire } from './op.ts';
import { Ring } from './ring.ts';
import type { KernelState } from './state.ts';

function roundPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export function createRingEx(k: KernelState, entries: number, flags: number, sqThreadCpu: number, sqThreadIdleMs: number): number {
  void sqThreadIdleMs;
  if (entries === 0 || entries > C.IORING_MAX_ENTRIES) return -C.EINVAL;
  if ((flags & ~C.KNOWN_SETUP_FLAGS) !== 0) return -C.EINVAL;
  if ((flags & k.opts.refuseSetupFlags) !== 0) return -C.EINVAL;
  if ((flags & C.IORING_SETUP_DEFER_TASKRUN) !== 0 && (flags & C.IORING_SETUP_SINGLE_ISSUER) === 0) return -C.EINVAL;
  const sqpoll = (flags & C.IORING_SETUP_SQPOLL) !== 0;
  if ((flags & C.IORING_SETUP_SQ_AFF) !== 0) {
    if (!sqpoll) return -C.EINVAL;
    if (sqThreadCpu < 0 || sqThreadCpu >= k.opts.cpus) return -C.EINVAL;
  }
  if (sqpoll && (flags & (C.IORING_SETUP_COOP_TASKRUN | C.IORING_SETUP_DEFER_TASKRUN)) !== 0) return -C.EINVAL;
  if (sqpoll && sqThreadCpu >= 0) {
    if (sqThreadCpu >= k.opts.cpus) return -C.EINVAL;
    flags |= C.IORING_SETUP_SQ_AFF;
  }
  const sq = roundPow2(entries);
  const cq = k.opts.cqEntries > 0 ? k.opts.cqEntries : 2 * sq;
  const rf = new PlainFile('ring');
  const fd = k.files.install(rf, false);
  if (fd < 0) return fd;
  const ef = new PlainFile('eventfd');
  const evfd = k.files.install(ef, false);
  if (evfd < 0) {
    k.files.uninstall(fd);
    return evfd;
  }
  let h = 1;
  while (k.rings.has(h)) h++;
  k.rings.set(h, new Ring(k, h, fd, evfd, sq, cq, flags));
  return h;
}

export function destroyRing(k: KernelState, ring: number): number {
  const r = k.rings.get(ring);
  if (r === undefined) return -C.EBADF;
  k.rings.delete(ring);
  for (const s of r.sq) k.sqes.delete(s.handle);
  r.sq.length = 0;
  for (const op of [...r.ops]) retire(k, op);
  for (let i = 0; i < r.cqCount; i++) dropUnread(k, r.cqAt(i));
  for (const c of r.overflow) dropUnread(k, c);
  for (const br of r.bufRings.values()) k.bufRings.delete(br.handle);
  r.bufRings.clear();
  r.watchers.clear();
  r.taskWork.length = 0;
  k.files.uninstall(r.evfd);
  k.files.uninstall(r.fd);
  return 0;
}

export function getRingFlags(k: KernelState, ring: number): bigint {
  const r = k.rings.get(ring);
  return r === undefined ? BigInt(-C.EBADF) : BigInt(r.flags);
}
