// A received chunk: a view over the reactor's receive slab, zero copy. The
// app owns one reference on the underlying buffer until `release()` hands it
// back to the kernel (zerg's TryGetRing / ReturnRing).
import { ZerglingError } from '../bridge/backend.ts';
import { codes } from './errors.ts';

/** What a chunk needs from its reactor. */
export interface ChunkOwner {
  /** The receive slab's memory. */
  readonly recvBuffer: ArrayBuffer;
  /** False once the reactor is destroyed: every view is then dead. */
  readonly alive: boolean;
  releaseBuffer(bid: number): void;
  /**
   * A view of `length` bytes at `offset` of buffer `bid`'s memory: the one
   * made for that buffer last time when offset and length match (a buffer
   * that comes back full, as most do, costs no view per delivery), else a new one.
   */
  view(bid: number, offset: number, length: number): Uint8Array;
}

export class Chunk {
  /** Buffer id in the provided-buffer ring. */
  readonly bid: number;
  /** Byte offset of the data in the receive slab. */
  readonly offset: number;
  readonly length: number;
  readonly #owner: ChunkOwner;
  #view: Uint8Array | undefined;
  #released = false;

  /** @internal Chunks are made by the reactor from `data` events. */
  constructor(owner: ChunkOwner, bid: number, offset: number, length: number) {
    this.#owner = owner;
    this.bid = bid;
    this.offset = offset;
    this.length = length;
  }

  /**
   * The received bytes: a view over the receive slab (no copy). Valid until
   * `release()`; reading it afterwards throws `ERR_CHUNK_RELEASED`, because the
   * kernel may already be writing other data into that memory.
   */
  get bytes(): Uint8Array {
    if (this.#released || !this.#owner.alive) {
      throw new ZerglingError(codes.CHUNK_RELEASED,
        `chunk (buffer ${this.bid}, ${this.length} bytes) was released; its bytes now belong to the kernel`);
    }
    return (this.#view ??= this.#owner.view(this.bid, this.offset, this.length));
  }

  /**
   * @internal The whole receive slab this chunk lies in (its bytes are at
   * `offset`, `length`): for readers that work by offset in one view of the
   * slab (zergling/http), so a read costs no view of its own. Same validity as `bytes`.
   */
  get slab(): ArrayBuffer {
    if (this.#released || !this.#owner.alive) {
      throw new ZerglingError(codes.CHUNK_RELEASED,
        `chunk (buffer ${this.bid}, ${this.length} bytes) was released; its bytes now belong to the kernel`);
    }
    return this.#owner.recvBuffer;
  }

  get released(): boolean {
    return this.#released;
  }

  /** Hands the buffer back to the kernel. Throws `ERR_CHUNK_ALREADY_RELEASED` the second time. */
  release(): void {
    if (this.#released) {
      throw new ZerglingError(codes.CHUNK_ALREADY_RELEASED,
        `chunk (buffer ${this.bid}, ${this.length} bytes) was already released`);
    }
    this.#released = true;
    this.#view = undefined;
    this.#owner.releaseBuffer(this.bid);
  }

  /** @internal Release without the double-release check (reactor teardown / discarded reads). */
  releaseQuietly(): void {
    if (this.#released) return;
    this.#released = true;
    this.#view = undefined;
    this.#owner.releaseBuffer(this.bid);
  }
}
