// Caller ArrayBuffers lent to the kernel as slabs (large writes, no copy):
// one slab per buffer however many writes use it, unpinned with the last.
import type { Backend } from '../../bridge/backend.ts';

interface Pin {
  slab: number;
  refs: number;
}

export class PinTable {
  readonly #backend: Backend;
  readonly #pins = new Map<ArrayBuffer, Pin>();
  readonly #bySlab = new Map<number, ArrayBuffer>();

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  get size(): number { return this.#pins.size; }

  pin(buffer: ArrayBuffer): number {
    const p = this.#pins.get(buffer);
    if (p !== undefined) { p.refs++; return p.slab; }
    const slab = this.#backend.pinSlab(buffer);
    this.#pins.set(buffer, { slab, refs: 1 });
    this.#bySlab.set(slab, buffer);
    return slab;
  }

  unpin(slab: number): void {
    const buffer = this.#bySlab.get(slab);
    if (buffer === undefined) return;
    const p = this.#pins.get(buffer)!;
    if (--p.refs > 0) return;
    this.#pins.delete(buffer);
    this.#bySlab.delete(slab);
    this.#backend.unpinSlab(slab);
  }

  /** Ends every loan at once (the reactor is gone). */
  unpinAll(): void {
    for (const p of this.#pins.values()) this.#backend.unpinSlab(p.slab);
    this.#pins.clear();
    this.#bySlab.clear();
  }
}
