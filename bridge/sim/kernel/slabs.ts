// Host slabs: the only memory a guest can name, as (slab, offset, length).
// Every range is checked here before a request may touch it.
import * as C from '../consts.ts';
import type { KernelState } from './state.ts';

export interface Slab {
  readonly handle: number;
  readonly buffer: ArrayBuffer;
  readonly u8: Uint8Array;
  /** A caller's buffer lent to the core: never written by the kernel, never destroyed by the guest. */
  readonly pinned: boolean;
}

export function slabRange(k: KernelState, slab: number, offset: number, len: number): number {
  const s = k.slabs.get(slab);
  if (s === undefined) return -C.EBADF;
  if (offset > s.u8.length || len > s.u8.length - offset) return -C.EFAULT;
  return 0;
}

export function slabCreate(k: KernelState, size: number): number {
  if (size === 0) return -C.EINVAL;
  if (size > k.opts.maxSlabBytes) return -C.ENOMEM;
  return addSlab(k, new ArrayBuffer(size), false);
}

export function addSlab(k: KernelState, buffer: ArrayBuffer, pinned: boolean): number {
  let h = 1;
  while (k.slabs.has(h)) h++;
  k.slabs.set(h, { handle: h, buffer, u8: new Uint8Array(buffer), pinned });
  return h;
}

/**
 * True while a buffer ring may hand the slab to the kernel (it was added to
 * one that still exists). Sends in flight keep the memory they were prepared
 * with (the native backend quarantines it), so they do not count.
 */
export function slabInUse(k: KernelState, slab: number): boolean {
  for (const b of k.bufRings.values()) if (b.slabRefs.has(slab)) return true;
  return false;
}

export function slabDestroy(k: KernelState, slab: number): number {
  const s = k.slabs.get(slab);
  if (s === undefined) return -C.EBADF;
  if (s.pinned || slabInUse(k, slab)) return -C.EBUSY;
  k.slabs.delete(slab);
  return 0;
}
