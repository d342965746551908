// Bytes waiting inside the TCP model: an endpoint's receive buffer, a client's
// unsent bytes. Chunks are kept as pushed (no copy on append) and copied out
// only as they are taken; a taken chunk's slot is emptied at once so that it
// can be collected before the array is next compacted.

const EMPTY = new Uint8Array(0);

/** A byte queue of chunks (no copying on append). */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  /** The first chunk not wholly taken, and the bytes taken of it. */
  private head = 0;
  private off = 0;
  bytes = 0;

  push(b: Uint8Array): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.bytes += b.length;
  }

  /** Copies up to `max` bytes into `dst` at `at`, consuming them. */
  take(dst: Uint8Array, at: number, max: number): number {
    let n = 0;
    while (n < max && this.head < this.chunks.length) {
      const c = this.chunks[this.head]!;
      const k = Math.min(c.length - this.off, max - n);
      dst.set(c.subarray(this.off, this.off + k), at + n);
      n += k;
      this.off += k;
      if (this.off === c.length) {
        this.chunks[this.head] = EMPTY;
        this.head++;
        this.off = 0;
      }
    }
    // Drops the taken prefix once it is most of the array (amortised O(1)).
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    this.bytes -= n;
    return n;
  }

  /** The next `n` bytes (n <= bytes) as one new array (a segment to transmit), consumed. */
  shift(n: number): Uint8Array {
    const seg = new Uint8Array(n);
    this.take(seg, 0, n);
    return seg;
  }

  /** Everything still queued, as one copy (the queue itself is left as is). */
  all(): Uint8Array {
    const all = new Uint8Array(this.bytes);
    let k = 0;
    for (let i = this.head; i < this.chunks.length; i++) {
      const c = this.chunks[i]!.subarray(i === this.head ? this.off : 0);
      all.set(c, k);
      k += c.length;
    }
    return all;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.off = 0;
    this.bytes = 0;
  }
}
