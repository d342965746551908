// Provided-buffer rings: the guest writes slots and publishes them with an
// advance; a recv consumes them from the head (or moves the head slot's
// address on, with IOU_PBUF_RING_INC).
import * as C from '../consts.ts';
import type { Ring } from './ring.ts';
import { slabRange } from './slabs.ts';
import type { KernelState } from './state.ts';

interface BufSlot {
  slab: number;
  offset: number;
  len: number;
  bid: number;
}

export class BufRing {
  /** The shared ring memory: what buf-ring-add wrote. */
  readonly slots: (BufSlot | undefined)[];
  /** Published tail (guest) and consumed head (kernel), both u16 as in the ABI. */
  tail = 0;
  head = 0;
  readonly mask: number;
  /** Position (tail + idx) each slot was last written for: advance publishes only fresh slots. */
  readonly written: number[];
  /** Slabs this ring may hand to the kernel: they cannot be destroyed or unpinned. */
  readonly slabRefs = new Set<number>();
  constructor(
    readonly handle: number,
    readonly ring: Ring,
    readonly bgid: number,
    readonly entries: number,
    readonly inc: boolean,
  ) {
    this.slots = new Array<BufSlot | undefined>(entries).fill(undefined);
    this.written = new Array<number>(entries).fill(-1);
    this.mask = entries - 1;
  }
  get avail(): number {
    return (this.tail - this.head) & 0xffff;
  }
  /** Bids currently published and not yet consumed by the kernel. */
  availableBids(): number[] {
    const out: number[] = [];
    const n = Math.min(this.avail, this.entries);
    for (let i = 0; i < n; i++) {
      const s = this.slots[(this.head + i) & this.mask];
      out.push(s === undefined ? -1 : s.bid);
    }
    return out;
  }
}

function isPow2(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

export function setupBufRing(k: KernelState, ring: number, entries: number, bgid: number, flags: number): number {
  const r = k.rings.get(ring);
  if (r === undefined) return -C.EBADF;
  if (!isPow2(entries) || entries > 32768) return -C.EINVAL;
  if (bgid > 0xffff) return -C.EINVAL;
  if ((flags & ~C.IOU_PBUF_RING_INC) !== 0) return -C.EINVAL;
  if (r.bufRings.has(bgid)) return -C.EEXIST;
  let h = 1;
  while (k.bufRings.has(h)) h++;
  const br = new BufRing(h, r, bgid, entries, (flags & C.IOU_PBUF_RING_INC) !== 0);
  k.bufRings.set(h, br);
  r.bufRings.set(bgid, br);
  return h;
}

export function freeBufRing(k: KernelState, ring: number, br: number): number {
  const r = k.rings.get(ring);
  const b = k.bufRings.get(br);
  if (r === undefined || b === undefined || b.ring !== r) return -C.EBADF;
  k.bufRings.delete(br);
  r.bufRings.delete(b.bgid);
  return 0;
}

export function bufRingAdd(k: KernelState, br: number, slab: number, offset: number, len: number, bid: number, mask: number, idx: number): number {
  const b = k.bufRings.get(br);
  if (b === undefined) return -C.EBADF;
  const e = slabRange(k, slab, offset, len);
  if (e < 0) return e;
  // the kernel writes into provided buffers: pinned (lent) memory never, as natively
  if (k.slabs.get(slab)!.pinned) return -C.EINVAL;
  // a zero-length buffer reads as EOF: refused, as by the native backend
  if (len === 0 || bid >= b.entries || mask !== b.mask || idx >= b.entries) return -C.EINVAL;
  const at = (b.tail + idx) & b.mask;
  b.slots[at] = { slab, offset, len, bid };
  b.written[at] = (b.tail + idx) & 0xffff;
  b.slabRefs.add(slab);
  return 0;
}

export function bufRingAdvance(k: KernelState, br: number, count: number): number {
  const b = k.bufRings.get(br);
  if (b === undefined) return -C.EBADF;
  if (count > b.entries) return -C.EINVAL;
  // only entries written since the last advance may be published
  for (let i = 0; i < count; i++) if (b.written[(b.tail + i) & b.mask] !== ((b.tail + i) & 0xffff)) return -C.EINVAL;
  b.tail = (b.tail + count) & 0xffff;
  if (b.avail > b.entries) {
    k.world.violation(`buf ring ${br}: ${b.avail} buffers published for ${b.entries} entries (the kernel would reuse unconsumed slots)`);
  } else if (count > 0) {
    const seen = new Set<number>();
    for (const bid of b.availableBids()) {
      if (bid >= 0 && seen.has(bid)) {
        k.world.violation(`buf ring ${br}: bid ${bid} published twice`);
        break;
      }
      seen.add(bid);
    }
  }
  // buffers came back: requests waiting for data may proceed (nothing waits on buffers in Linux:
  // a multishot recv that hit -ENOBUFS has ended; the guest must re-arm it)
  return 0;
}
