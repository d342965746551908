// The read side of a connection: chunks the core delivered, queued until the
// app reads them, and the one reader (read() or the async iterator) waiting.
import { ZerglingError } from '../../bridge/backend.ts';
import { Chunk, type ChunkOwner } from '../chunk.ts';
import { codes } from '../errors.ts';

/** Whoever waits for the next chunk (read() or the async iterator). */
type ReadWaiter = (c: Chunk | null) => void;

export class ConnectionReader {
  readonly #owner: ChunkOwner;
  #chunks: Chunk[] = [];
  #chunkHead = 0;
  #reader: ReadWaiter | null = null;
  #eof = false;
  #discard = false;
  /** The connection closed: nothing more will arrive. */
  closed = false;

  constructor(owner: ChunkOwner) {
    this.#owner = owner;
  }

  /** The peer half-closed and every chunk before its FIN was taken. */
  get ended(): boolean { return this.#eof && this.#chunkHead === this.#chunks.length; }

  read(): Promise<Chunk | null> {
    if (this.#reader !== null) {
      return Promise.reject(new ZerglingError(codes.READ_PENDING, 'a read() is already pending on this connection'));
    }
    if (this.#chunkHead < this.#chunks.length) return Promise.resolve(this.#takeChunk());
    if (this.#eof || this.closed || this.#discard) return Promise.resolve(null);
    return new Promise((resolve) => { this.#reader = resolve; });
  }

  #takeChunk(): Chunk {
    const c = this.#chunks[this.#chunkHead]!;
    this.#chunks[this.#chunkHead++] = undefined as unknown as Chunk;
    if (this.#chunkHead === this.#chunks.length) {
      this.#chunks.length = 0;
      this.#chunkHead = 0;
    } else if (this.#chunkHead > 64 && this.#chunkHead * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#chunkHead);
      this.#chunkHead = 0;
    }
    return c;
  }

  iterator(): AsyncIterator<Uint8Array> {
    let current: Chunk | null = null;
    const done: IteratorReturnResult<undefined> = { value: undefined, done: true };
    const finish = (): void => {
      if (current !== null) { current.releaseQuietly(); current = null; }
    };
    // The waiting path reuses one executor and one reader per iterator, so a
    // chunk costs the promise, the Chunk and the result object, no closures.
    let settle: ((r: IteratorResult<Uint8Array>) => void) | null = null;
    const reader: ReadWaiter = (c) => {
      const res = settle!;
      settle = null;
      if (c === null) { res(done); return; }
      current = c;
      res({ value: c.bytes, done: false });
    };
    const wait = (resolve: (r: IteratorResult<Uint8Array>) => void): void => {
      settle = resolve;
      this.#reader = reader;
    };
    return {
      // The hot path of every for-await server.
      next: (): Promise<IteratorResult<Uint8Array>> => {
        finish();
        if (this.#reader !== null) {
          return Promise.reject(new ZerglingError(codes.READ_PENDING, 'a read() is already pending on this connection'));
        }
        if (this.#chunkHead < this.#chunks.length) {
          current = this.#takeChunk();
          return Promise.resolve({ value: current.bytes, done: false });
        }
        if (this.#eof || this.closed || this.#discard) return Promise.resolve(done);
        return new Promise(wait);
      },
      return: (): Promise<IteratorResult<Uint8Array>> => {
        finish();
        this.stopReading();
        return Promise.resolve(done);
      },
    };
  }

  /** Stops reading: releases queued chunks; later data is released on arrival. */
  stopReading(): void {
    this.#discard = true;
    for (let i = this.#chunkHead; i < this.#chunks.length; i++) this.#chunks[i]!.releaseQuietly();
    this.#chunks.length = 0;
    this.#chunkHead = 0;
    const r = this.#reader;
    if (r !== null) { this.#reader = null; r(null); }
  }

  onData(bid: number, offset: number, length: number): void {
    const chunk = new Chunk(this.#owner, bid, offset, length);
    if (this.#discard) { chunk.releaseQuietly(); return; }
    const r = this.#reader;
    if (r !== null) {
      this.#reader = null;
      r(chunk);
    } else {
      this.#chunks.push(chunk);
    }
  }

  onEof(): void {
    this.#eof = true;
    this.#wakeAtEnd();
  }

  /** After the write side settled its waiters: the reader learns the end, a stopped reader drops what came. */
  onClosed(): void {
    this.#wakeAtEnd();
    if (this.#discard) this.stopReading();
  }

  #wakeAtEnd(): void {
    const r = this.#reader;
    if (r !== null && this.#chunkHead === this.#chunks.length) {
      this.#reader = null;
      r(null);
    }
  }
}
