// The reactor's write slab: copies of written bytes wait here until the kernel
// has sent them. A bump allocator over fixed blocks with one reference count
// per block: every write of a turn lands contiguously in the current block
// (small writes waste nothing), a block goes back to the free stack when its
// last range is sent, and the current block rewinds to 0 when it drains, so a
// steady request/response load keeps touching the same few cache-hot bytes.
// Sends complete in order per connection but not across connections, which
// is why this is blocks + refcounts and not one circular buffer.

export const BLOCK_SIZE = 64 << 10;

export class WriteSlab {
  readonly handle: number;
  readonly bytes: Uint8Array;
  readonly blockSize: number;
  readonly blocks: number;
  /** Ranges queued in each block and not yet sent. */
  readonly #refs: Uint32Array;
  readonly #free: Int32Array;
  #freeTop: number;
  #cur = -1;
  #curOff = 0;
  /** Slab offset of the range `alloc` returned last. */
  offset = 0;
  /** Length of the range `alloc` returned last. */
  length = 0;

  constructor(handle: number, buffer: ArrayBuffer) {
    this.handle = handle;
    this.bytes = new Uint8Array(buffer);
    this.blockSize = Math.min(BLOCK_SIZE, buffer.byteLength);
    this.blocks = Math.floor(buffer.byteLength / this.blockSize);
    this.#refs = new Uint32Array(this.blocks);
    this.#free = new Int32Array(this.blocks);
    // LIFO: block 0 on top, so a light load stays in the first pages.
    for (let i = 0; i < this.blocks; i++) this.#free[i] = this.blocks - 1 - i;
    this.#freeTop = this.blocks;
  }

  /**
   * Reserves up to `max` (> 0) bytes in the current block and takes a
   * reference on it. Returns the block index and sets `offset`/`length`, or
   * returns -1 when every block is in use.
   */
  alloc(max: number): number {
    let b = this.#cur;
    if (b < 0 || this.#curOff === this.blockSize) {
      if (b >= 0 && this.#refs[b] === 0) this.#free[this.#freeTop++] = b;
      if (this.#freeTop === 0) { this.#cur = -1; return -1; }
      b = this.#cur = this.#free[--this.#freeTop]!;
      this.#curOff = 0;
    }
    const n = Math.min(max, this.blockSize - this.#curOff);
    this.offset = b * this.blockSize + this.#curOff;
    this.length = n;
    this.#curOff += n;
    this.#refs[b]!++;
    return b;
  }

  /** One range of `block` was sent. */
  unref(block: number): void {
    const left = --this.#refs[block]!;
    if (left !== 0) return;
    if (block === this.#cur) this.#curOff = 0;
    else this.#free[this.#freeTop++] = block;
  }

  /** Blocks currently holding unsent ranges. */
  get blocksInUse(): number {
    let n = 0;
    for (let i = 0; i < this.blocks; i++) if (this.#refs[i] !== 0) n++;
    return n;
  }

  /** Outstanding ranges over all blocks (0 when everything written was sent). */
  get outstanding(): number {
    let n = 0;
    for (let i = 0; i < this.blocks; i++) n += this.#refs[i]!;
    return n;
  }
}
