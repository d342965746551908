// What each write range the core holds for a connection is backed by, in
// send order, so that a `sent` event gives back exactly the memory it covered.

// Range tags: >= 0 a write-slab block, -1 a range of the receive slab (the
// core holds that buffer), <= -2 a pinned slab.
export const TAG_RECV = -1;
export const pinTag = (slab: number): number => -2 - slab;
export const pinnedSlab = (tag: number): number => -2 - tag;

/**
 * No ranges queued yet: every queue starts on this shared empty buffer and
 * allocates its own at the first push, so an idle connection costs no
 * Int32Array (an ArrayBuffer, its backing store and the view: ~350 bytes).
 */
const EMPTY = new Int32Array(0);
/** Int32 slots of a queue's first buffer (16 pairs). */
const FIRST = 32;

/** FIFO of (Int32 tag, byte length) pairs without per-item allocation. */
export class TagQueue {
  #buf = EMPTY;
  #head = 0;
  #len = 0;
  /** Length of the range `shift()` last returned. */
  lastLen = 0;
  get length(): number { return this.#len; }
  push(v: number, len: number): void {
    const cap = this.#buf.length >>> 1;
    if (this.#len === cap) {
      const next = new Int32Array(cap === 0 ? FIRST : this.#buf.length * 2);
      for (let i = 0; i < this.#len; i++) {
        const j = ((this.#head + i) & (cap - 1)) << 1;
        next[i << 1] = this.#buf[j]!;
        next[(i << 1) + 1] = this.#buf[j + 1]!;
      }
      this.#buf = next;
      this.#head = 0;
    }
    const k = ((this.#head + this.#len++) & ((this.#buf.length >>> 1) - 1)) << 1;
    this.#buf[k] = v;
    this.#buf[k + 1] = len;
  }
  shift(): number {
    const k = this.#head << 1;
    this.#head = (this.#head + 1) & ((this.#buf.length >>> 1) - 1);
    this.#len--;
    this.lastLen = this.#buf[k + 1]!;
    return this.#buf[k]!;
  }
}
