// Helpers for driving the simulated kernel through the Host interface directly
// (no Wasm core): a listener, a ring, a provided-buffer ring, CQE reaping.
import { createSimBackend } from '../../bridge/sim/index.ts';
import type { SimBackend, SimOptions } from '../../bridge/sim/index.ts';

export const F_BUFFER = 1;
export const F_MORE = 2;
export const F_SOCK_NONEMPTY = 4;
export const F_BUF_MORE = 16;

export interface RCqe {
  ud: bigint;
  res: number;
  flags: number;
}

export interface Rig {
  sim: SimBackend;
  ring: number;
  lfd: number;
  port: number;
  slab: number;
  br: number;
  bufSize: number;
  entries: number;
  /** Submits, runs the world until idle, and reaps every CQE. */
  settle(): RCqe[];
  reap(): RCqe[];
  sqe(): number;
  /** Adds `bids` back to the buffer ring and publishes them. */
  give(bids: number[]): void;
  bytes(bid: number, off: number, len: number): Uint8Array;
}

export interface RigOptions extends Partial<SimOptions> {
  sqEntries?: number;
  bufEntries?: number;
  bufSize?: number;
  inc?: boolean;
  ringFlags?: number;
  /** Do not publish any buffer at setup. */
  noBuffers?: boolean;
}

export function rig(o: RigOptions = {}): Rig {
  const sim = createSimBackend({ seed: 1, ...o });
  const h = sim.host;
  const ring = h.createRingEx(o.sqEntries ?? 8, o.ringFlags ?? 0, -1, 0);
  if (ring < 0) throw new Error(`createRing ${ring}`);
  const lfd = h.socket(2, 1, 0);
  if (h.bind(lfd, { port: 0, addr: 0x7f000001 }) !== 0) throw new Error('bind');
  if (h.listen(lfd, 16) !== 0) throw new Error('listen');
  const port = h.getsockname(lfd).port;
  const entries = o.bufEntries ?? 8;
  const bufSize = o.bufSize ?? 64;
  const slab = h.slabCreate(entries * bufSize);
  const br = h.setupBufRing(ring, entries, 1, o.inc ? 2 : 0);
  if (br < 0) throw new Error(`setupBufRing ${br}`);
  const r: Rig = {
    sim, ring, lfd, port, slab, br, bufSize, entries,
    sqe() {
      const s = h.getSqe(ring);
      if (s < 0) throw new Error(`getSqe ${s}`);
      return s;
    },
    reap() {
      const out: RCqe[] = [];
      for (;;) {
        const b = h.peekBatchCqe(ring, 64);
        if (b.length === 0) return out;
        const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
        for (let i = 0; i < b.length; i += 16) out.push({ ud: dv.getBigUint64(i, true), res: dv.getInt32(i + 8, true), flags: dv.getUint32(i + 12, true) });
        h.cqAdvance(ring, b.length / 16);
      }
    },
    settle() {
      h.submit(ring);
      sim.run();
      // GETEVENTS (DEFER_TASKRUN rings show their CQEs only then)
      h.enter(ring, 0, 0, 1, undefined);
      return r.reap();
    },
    give(bids: number[]) {
      bids.forEach((bid, i) => {
        const e = h.bufRingAdd(br, slab, bid * bufSize, bufSize, bid, entries - 1, i);
        if (e !== 0) throw new Error(`bufRingAdd ${e}`);
      });
      h.bufRingAdvance(br, bids.length);
    },
    bytes(bid: number, off: number, len: number) {
      return new Uint8Array(sim.slabBuffer(slab), bid * bufSize + off, len).slice();
    },
  };
  if (!o.noBuffers) r.give([...Array(entries).keys()]);
  return r;
}

export function armAccept(r: Rig, ud = 0x100n): void {
  const s = r.sqe();
  r.sim.host.prepMultishotAccept(s, r.lfd, 0);
  r.sim.host.sqeSetData64(s, ud);
}

export function armRecv(r: Rig, fd: number, ud: bigint): void {
  const s = r.sqe();
  r.sim.host.prepRecvMultishotSelect(s, fd, 1, 0);
  r.sim.host.sqeSetData64(s, ud);
}

export function bytesOf(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function text(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}
