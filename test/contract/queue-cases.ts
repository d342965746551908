// Contract cases of the fused queue-* imports (get-sqe + prep + sqe-set-data64
// in one call), imported by host-contract.test.ts. Each takes the checks of
// the prep of the same name, plus the ring: a bad argument is the prep's
// errno, a full SQ is -EBUSY, and an error queues nothing (sq-ready unchanged:
// the fixture's one get-sqe SQE).
import type { Host } from '../../bridge/backend.ts';
import { tokenHalves } from '../../bridge/backend.ts';

const EBADF = -9, EFAULT = -14, EINVAL = -22, EBUSY = -16;
const MSG_OOB = 0x1, MSG_NOSIGNAL = 0x4000;
const BOGUS = 0xdead;
const TOKEN = 0x0300_0000_0000_0007n;

/** The suite's fixture: a live ring, a guest socket, a 4 KiB slab and one unsubmitted get-sqe SQE. */
interface Fixture { h: Host; ring: number; fd: number; slab: number; sqe: number }
interface Case { name: string; expect: number; run: (f: Fixture) => number }

/** `call`'s result when it failed, else what sq-ready says after it (1: the fixture's SQE only). */
const queuedOrErr = (f: Fixture, call: () => number): number => {
  const r = call();
  return r < 0 ? r : f.h.sqReady(f.ring);
};

/** Queues cancels until one fails (an SQ has at most 4096 entries here): that error. */
function fillSq({ h, ring }: Fixture): number {
  for (let i = 0; i < 4096; i++) {
    const r = h.queueCancel64(ring, TOKEN, 0, ...tokenHalves(TOKEN + 1n));
    if (r < 0) return r;
  }
  return 0;
}

export const queueCases: Case[] = [
  // handles
  { name: 'queue-send on an unknown ring', expect: EBADF, run: ({ h, fd, slab }) => h.queueSend(BOGUS, fd, slab, 0, 16, 0, ...tokenHalves(TOKEN)) },
  { name: 'queue-multishot-accept on an unknown ring', expect: EBADF, run: ({ h, fd }) => h.queueMultishotAccept(BOGUS, fd, 0, ...tokenHalves(TOKEN)) },
  { name: 'queue-recv-multishot-select on an unknown ring', expect: EBADF, run: ({ h, fd }) => h.queueRecvMultishotSelect(BOGUS, fd, 0, 0, ...tokenHalves(TOKEN)) },
  { name: 'queue-recv-select on an unknown ring', expect: EBADF, run: ({ h, fd }) => h.queueRecvSelect(BOGUS, fd, 0, 0, ...tokenHalves(TOKEN)) },
  { name: 'queue-sendmsg on an unknown ring', expect: EBADF, run: ({ h, fd, slab }) => h.queueSendmsg(BOGUS, fd, [{ slab, offset: 0, len: 1 }], 0, ...tokenHalves(TOKEN)) },
  { name: 'queue-cancel64 on an unknown ring', expect: EBADF, run: ({ h }) => h.queueCancel64(BOGUS, TOKEN, 0, ...tokenHalves(TOKEN)) },
  // fds
  { name: 'queue-multishot-accept on an fd the guest never owned (0)', expect: EBADF, run: ({ h, ring }) => h.queueMultishotAccept(ring, 0, 0, ...tokenHalves(TOKEN)) },
  { name: 'queue-recv-multishot-select on an fd the guest never owned (0)', expect: EBADF, run: ({ h, ring }) => h.queueRecvMultishotSelect(ring, 0, 0, 0, ...tokenHalves(TOKEN)) },
  { name: 'queue-send on an fd the guest never owned (0)', expect: EBADF, run: ({ h, ring, slab }) => h.queueSend(ring, 0, slab, 0, 16, 0, ...tokenHalves(TOKEN)) },
  // flags
  { name: 'queue-multishot-accept with an unknown flag', expect: EINVAL, run: ({ h, ring, fd }) => h.queueMultishotAccept(ring, fd, 0x1, ...tokenHalves(TOKEN)) },
  { name: 'queue-recv-select with MSG_OOB', expect: EINVAL, run: ({ h, ring, fd }) => h.queueRecvSelect(ring, fd, 0, MSG_OOB, ...tokenHalves(TOKEN)) },
  { name: 'queue-recv-multishot-select, group id > 0xffff', expect: EINVAL, run: ({ h, ring, fd }) => h.queueRecvMultishotSelect(ring, fd, 0x10000, 0, ...tokenHalves(TOKEN)) },
  { name: 'queue-send with MSG_OOB', expect: EINVAL, run: ({ h, ring, fd, slab }) => h.queueSend(ring, fd, slab, 0, 16, MSG_OOB, ...tokenHalves(TOKEN)) },
  { name: 'queue-cancel64 with an unknown flag', expect: EINVAL, run: ({ h, ring }) => h.queueCancel64(ring, TOKEN, 0x80, ...tokenHalves(TOKEN)) },
  // ranges
  { name: 'queue-send past the slab end', expect: EFAULT, run: ({ h, ring, fd, slab }) => h.queueSend(ring, fd, slab, 4090, 16, 0, ...tokenHalves(TOKEN)) },
  { name: 'queue-send from an unknown slab', expect: EBADF, run: ({ h, ring, fd }) => h.queueSend(ring, fd, BOGUS, 0, 16, 0, ...tokenHalves(TOKEN)) },
  { name: 'queue-sendmsg with 65 ranges', expect: EINVAL, run: ({ h, ring, fd, slab }) => h.queueSendmsg(ring, fd, Array.from({ length: 65 }, () => ({ slab, offset: 0, len: 1 })), 0, ...tokenHalves(TOKEN)) },
  { name: 'queue-sendmsg with a range past the slab end', expect: EFAULT, run: ({ h, ring, fd, slab }) => h.queueSendmsg(ring, fd, [{ slab, offset: 0, len: 8 }, { slab, offset: 4095, len: 2 }], 0, ...tokenHalves(TOKEN)) },
  // an error queues nothing; a success queues exactly one SQE
  { name: 'queue-send refused: nothing queued (sq-ready 1)', expect: 1, run: (f) => { f.h.queueSend(f.ring, f.fd, f.slab, 4090, 16, 0, ...tokenHalves(TOKEN)); return f.h.sqReady(f.ring); } },
  { name: 'queue-sendmsg refused: nothing queued (sq-ready 1)', expect: 1, run: (f) => { f.h.queueSendmsg(f.ring, f.fd, [{ slab: f.slab, offset: 0, len: 1 }], MSG_OOB, ...tokenHalves(TOKEN)); return f.h.sqReady(f.ring); } },
  { name: 'queue-send queues one SQE (sq-ready 2)', expect: 2, run: (f) => queuedOrErr(f, () => f.h.queueSend(f.ring, f.fd, f.slab, 0, 16, MSG_NOSIGNAL, ...tokenHalves(TOKEN))) },
  { name: 'queue-sendmsg queues one SQE (sq-ready 2)', expect: 2, run: (f) => queuedOrErr(f, () => f.h.queueSendmsg(f.ring, f.fd, [{ slab: f.slab, offset: 0, len: 4 }, { slab: f.slab, offset: 100, len: 4 }], MSG_NOSIGNAL, ...tokenHalves(TOKEN))) },
  { name: 'queue-recv-multishot-select queues one SQE (sq-ready 2)', expect: 2, run: (f) => queuedOrErr(f, () => f.h.queueRecvMultishotSelect(f.ring, f.fd, 0, 0, ...tokenHalves(TOKEN))) },
  { name: 'queue-cancel64 queues one SQE (sq-ready 2)', expect: 2, run: (f) => queuedOrErr(f, () => f.h.queueCancel64(f.ring, TOKEN, 0, ...tokenHalves(TOKEN + 1n))) },
  // a full SQ
  { name: 'queue-cancel64 on a full SQ', expect: EBUSY, run: fillSq },
  { name: 'queue-send on a full SQ queues nothing (still -EBUSY, sq-ready unchanged)', expect: 0, run: (f) => {
    fillSq(f);
    const before = f.h.sqReady(f.ring);
    const r = f.h.queueSend(f.ring, f.fd, f.slab, 0, 16, 0, ...tokenHalves(TOKEN));
    return r === EBUSY && f.h.sqReady(f.ring) === before ? 0 : r;
  } },
];
