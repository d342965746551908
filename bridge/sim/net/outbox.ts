// A client's unsent bytes: what the application wrote and its stack has not
// transmitted yet. Segments are cut from the front as the peer's window
// allows; consumed chunks are dropped (EMPTY) so they can be collected.

const EMPTY = new Uint8Array(0);

export class Outbox {
  private chunks: Uint8Array[] = [];
  private head = 0;
  private off = 0;
  bytes = 0;

  push(b: Uint8Array): void {
    this.chunks.push(b);
    this.bytes += b.length;
  }

  /** The next `n` bytes (n <= bytes) as one new segment, consumed. */
  take(n: number): Uint8Array {
    const seg = new Uint8Array(n);
    let k = 0;
    while (k < n) {
      const c = this.chunks[this.head]!;
      const m = Math.min(c.length - this.off, n - k);
      seg.set(c.subarray(this.off, this.off + m), k);
      k += m;
      this.off += m;
      if (this.off === c.length) {
        this.chunks[this.head] = EMPTY;
        this.head++;
        this.off = 0;
      }
    }
    this.bytes -= n;
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

  /** Drops the consumed prefix once it is most of the array (amortised O(1)). */
  compact(): void {
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.off = 0;
    this.bytes = 0;
  }
}
