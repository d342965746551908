// fds leaving the guest: close, and the cluster hand-off (release into
// transit, claim by the receiving guest). Either way the fd's prepared SQEs
// become silent NOPs first, unless one is already flushed (native:
// zl_ring_forget_fd).
import * as C from '../consts.ts';
import { Sock } from './socket.ts';
import { namesFd, silence } from './sqe.ts';
import type { KernelState } from './state.ts';

/**
 * fd stops being the guest's: its prepared SQEs become silent NOPs, unless
 * one already flushed (handle spent, not yet consumed by a short enter)
 * names it: then -EBUSY and nothing changes.
 */
function forgetFd(k: KernelState, fd: number): number {
  for (const r of k.rings.values()) {
    for (const q of r.sq) if (!k.sqes.has(q.handle) && namesFd(q, fd)) return -C.EBUSY;
  }
  for (const r of k.rings.values()) for (const q of r.sq) if (namesFd(q, fd)) silence(q);
  return 0;
}

export function close(k: KernelState, fd: number): number {
  if (!k.files.owns(fd)) {
    k.counters.badFdCloses++;
    return -C.EBADF;
  }
  const busy = forgetFd(k, fd);
  if (busy < 0) return busy;
  const f = k.files.at(fd);
  if (f instanceof Sock) f.closeCount++;
  if (k.world.tracing) k.world.trace.note(`close fd ${fd}${f instanceof Sock && f.ep !== undefined ? ` (client ${f.ep.clientId}, ${f.refs - 1} request ref(s) keep it alive)` : ''}`);
  k.files.uninstall(fd);
  return 0;
}

/** Backend.releaseFd: the guest's fd leaves it (into transit). */
export function releaseFd(k: KernelState, fd: number): number {
  if (!k.files.owns(fd)) return -C.EBADF;
  const busy = forgetFd(k, fd);
  if (busy < 0) return busy;
  k.files.release(fd);
  return 0;
}

/** Backend.claimFd: an fd in transit becomes the guest's again. */
export function claimFd(k: KernelState, fd: number): number {
  return k.files.claim(fd) ? 0 : -C.EBADF;
}
