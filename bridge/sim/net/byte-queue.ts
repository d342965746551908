// An endpoint's receive buffer: chunks are kept as sent (no copy on append),
// bytes are copied out only when the reader takes them.

/** A byte queue of chunks (no copying on append). */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private first = 0;
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
    while (n < max && this.first < this.chunks.length) {
      const c = this.chunks[this.first]!;
      const k = Math.min(c.length - this.off, max - n);
      dst.set(c.subarray(this.off, this.off + k), at + n);
      n += k;
      this.off += k;
      if (this.off === c.length) {
        this.first++;
        this.off = 0;
      }
    }
    if (this.first > 64 && this.first * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
    this.bytes -= n;
    return n;
  }
  clear(): void {
    this.chunks = [];
    this.first = 0;
    this.off = 0;
    this.bytes = 0;
  }
}
