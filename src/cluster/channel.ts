// The fd channel from the acceptor (main thread) to one reactor (a worker):
// a single-producer single-consumer ring of fds in a SharedArrayBuffer. Pushing
// and draining are a few Atomics operations and allocate nothing; the consumer
// is woken by a doorbell (one MessagePort message) only when it went idle, so
// a burst of accepts costs one message, not one per connection.
//
// Idle protocol (Dekker-style, every Atomics op is sequentially consistent):
//   consumer: drain; store(idle, 1); if load(tail) != head { store(idle, 0); drain again }
//   producer: store(tail, t + 1); if exchange(idle, 0) == 1 { ring the doorbell }
// Either the consumer sees the new tail, or the producer sees idle = 1 and
// rings: an fd never sits in the ring unnoticed.

/** Int32 indexes; head, tail and idle sit on separate cache lines. */
const HEAD = 0;
const TAIL = 16;
const IDLE = 32;
const SLOTS = 48;

/** Default capacity: fds accepted and not yet adopted, per reactor. */
export const DEFAULT_CAPACITY = 4096;

export class FdChannel {
  readonly buffer: SharedArrayBuffer;
  readonly capacity: number;
  readonly #i32: Int32Array;
  readonly #mask: number;
  /** The producer's (or consumer's) own copy of its index: no atomic load needed. */
  #tail: number;
  #head: number;

  /** A new channel (`capacity` a power of two), or a view over `buffer` from the other side. */
  constructor(capacityOrBuffer: number | SharedArrayBuffer = DEFAULT_CAPACITY) {
    if (typeof capacityOrBuffer === 'number') {
      const cap = capacityOrBuffer;
      if (!Number.isInteger(cap) || cap < 1 || (cap & (cap - 1)) !== 0) {
        throw new RangeError(`channel capacity must be a power of two (got ${cap})`);
      }
      this.buffer = new SharedArrayBuffer((SLOTS + cap) * 4);
      this.#i32 = new Int32Array(this.buffer);
      Atomics.store(this.#i32, IDLE, 1); // nobody is draining yet: the first push rings
    } else {
      this.buffer = capacityOrBuffer;
      this.#i32 = new Int32Array(this.buffer);
    }
    this.capacity = this.#i32.length - SLOTS;
    this.#mask = this.capacity - 1;
    this.#tail = Atomics.load(this.#i32, TAIL);
    this.#head = Atomics.load(this.#i32, HEAD);
  }

  // ---------------------------------------------------------------- producer

  /**
   * Appends `fd`. Returns 1 when the consumer must be woken (it was idle),
   * 0 when it will see the fd anyway, -1 when the ring is full.
   */
  push(fd: number): -1 | 0 | 1 {
    const i = this.#i32;
    const t = this.#tail;
    if (((t - Atomics.load(i, HEAD)) | 0) >= this.capacity) return -1;
    i[SLOTS + (t & this.#mask)] = fd;
    this.#tail = (t + 1) | 0;
    Atomics.store(i, TAIL, this.#tail); // publishes the slot write above
    return Atomics.load(i, IDLE) === 1 && Atomics.exchange(i, IDLE, 0) === 1 ? 1 : 0;
  }

  // ---------------------------------------------------------------- consumer

  /**
   * Hands every queued fd to `take`, then marks the consumer idle (so the
   * next push rings the doorbell). Returns how many fds were taken.
   */
  drain(take: (fd: number) => void): number {
    const i = this.#i32;
    let h = this.#head;
    let n = 0;
    for (;;) {
      const t = Atomics.load(i, TAIL);
      while (h !== t) {
        const fd = i[SLOTS + (h & this.#mask)]!;
        h = (h + 1) | 0;
        this.#head = h;
        Atomics.store(i, HEAD, h); // per fd: a throwing `take` must not replay fds
        n++;
        take(fd);
      }
      Atomics.store(i, IDLE, 1);
      if (Atomics.load(i, TAIL) === h) return n;
      Atomics.store(i, IDLE, 0); // more arrived while going idle
    }
  }

  /** Fds queued and not yet drained (either side; a snapshot). */
  get size(): number {
    return (Atomics.load(this.#i32, TAIL) - Atomics.load(this.#i32, HEAD)) | 0;
  }
}
