// An in-flight request and its lifecycle: armed on its socket until woken,
// then done with a final CQE (maybe delayed: "completing"), and its file
// reference dropped. The engines that make progress: accept.ts, recv.ts,
// send.ts (dispatched by attempt.ts); cancel: cancel.ts.
import type { Ring } from './ring.ts';
import type { Sock } from './socket.ts';
import type { Opcode } from './sqe.ts';
import type { KernelState } from './state.ts';
import type { IoVec } from './types.ts';

export type OpState = 'armed' | 'completing' | 'done';

export class Op {
  state: OpState = 'armed';
  kickPending = false;
  /** send: bytes transmitted so far. */
  done = 0;
  total = 0;
  /** prep-recv-select: ends after its first CQE. */
  oneshot = false;
  constructor(
    readonly id: number,
    readonly ring: Ring,
    readonly opcode: Opcode,
    readonly userData: bigint,
    readonly sock: Sock | undefined,
    readonly flags: number,
    readonly bufGroup: number,
    readonly iov: IoVec[],
    readonly target: bigint,
  ) {
    for (const r of iov) this.total += r.len;
  }
}

export function arm(op: Op): void {
  if (op.sock !== undefined) op.sock.waiters.add(op);
}

/**
 * Runs `post` later: as task work under DEFER_TASKRUN (it runs in the next
 * GETEVENTS enter), else after the kernel's progress delay.
 */
export function later(k: KernelState, ring: Ring, post: () => void): void {
  if (ring.defer) {
    ring.taskWork.push(post);
    ring.signal();
  } else k.world.after(k.world.delay(k.world.faults.kernelDelay), post);
}

/** Ends a request with a final CQE (maybe later: the request is then "completing"). */
export function finish(k: KernelState, op: Op, res: number, flags = 0, allowDelay = true, acceptFd?: number): void {
  if (op.state === 'done') return;
  const ring = op.ring;
  if (op.sock !== undefined) op.sock.waiters.delete(op);
  if (allowDelay && k.world.rng.chance(k.world.faults.completionDelay)) {
    op.state = 'completing';
    later(k, ring, () => {
      if (op.state !== 'completing') return;
      retire(k, op);
      if (k.rings.get(ring.handle) === ring) ring.postFinal(op.userData, res, flags, acceptFd);
      else if (acceptFd !== undefined) k.files.uninstall(acceptFd);
    });
    return;
  }
  retire(k, op);
  ring.postFinal(op.userData, res, flags, acceptFd);
}

/** Drops the request and its file reference (no CQE). */
export function retire(k: KernelState, op: Op): void {
  op.state = 'done';
  op.ring.ops.delete(op);
  if (op.sock !== undefined) {
    op.sock.waiters.delete(op);
    k.files.unref(op.sock);
  }
}
