// One side of a TCP connection: its receive queue and window, the FIN/RST
// state of both directions, and the close rules (unread data → RST, as Linux's
// tcp_close). Segments travel through Net.send, which keeps each direction FIFO.
import { ByteQueue } from './byte-queue.ts';
import type { Addr } from './addr.ts';
import type { Net } from '../net.ts';

/** One side of a TCP connection. */
export class Endpoint {
  peer!: Endpoint;
  readonly rcv = new ByteQueue();
  /** Bytes in flight towards this endpoint (count against its window). */
  inflight = 0;
  /** Arrival time of the last segment sent towards this endpoint (keeps the channel FIFO). */
  lastArrival = 0;
  finRcvd = false;
  rstRcvd = false;
  /** Pending socket error (sk_err), consumed by the first operation that reports it. */
  err = 0;
  rdShut = false;
  wrShut = false;
  finSent = false;
  rstSent = false;
  /** Detached from its owner: data arriving here is answered with RST. */
  closed = false;
  /** Called when this endpoint may have become readable, writable or errored. */
  onChange: () => void = () => {};
  /** The simulated client this connection belongs to (both sides carry it). */
  clientId = -1;
  /** The kernel object that owns this endpoint (the guest's socket), if any. */
  owner: object | undefined;

  constructor(
    readonly net: Net,
    readonly id: number,
    public rcvCap: number,
    readonly local: Addr,
    readonly remote: Addr,
  ) {}

  get rcvBytes(): number {
    return this.rcv.bytes;
  }

  /** Bytes this endpoint may transmit now (the peer's free window). */
  space(): number {
    const p = this.peer;
    return Math.max(0, p.rcvCap - p.rcv.bytes - p.inflight);
  }

  /** True when the connection can no longer carry data from this side. */
  get broken(): boolean {
    return this.rstRcvd || this.rstSent || this.closed;
  }

  /** Reads up to `max` bytes into dst; tells the peer its window opened. */
  read(dst: Uint8Array, at: number, max: number): number {
    const n = this.rcv.take(dst, at, max);
    if (n > 0) this.net.notifyLater(this.peer);
    return n;
  }

  transmit(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.net.send(this, { kind: 'data', bytes });
  }

  sendFin(): void {
    if (this.finSent || this.rstSent) return;
    this.finSent = true;
    this.net.send(this, { kind: 'fin' });
  }

  sendRst(): void {
    if (this.rstSent) return;
    this.rstSent = true;
    this.net.send(this, { kind: 'rst' });
  }

  /**
   * The owner lets go of the endpoint (last reference of the socket). Unread
   * data → RST (Linux's tcp_close); otherwise FIN if not sent yet.
   */
  release(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.rcv.bytes > 0 && !this.rstRcvd) this.sendRst();
    else if (!this.rstRcvd) this.sendFin();
    this.rcv.clear();
    this.onChange = () => {};
  }

  /** Aborts the connection (SO_LINGER 0 + close): RST now, nothing more. */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.rstRcvd) this.sendRst();
    this.rcv.clear();
    this.onChange = () => {};
  }
}

export type Segment = { kind: 'data'; bytes: Uint8Array } | { kind: 'fin' } | { kind: 'rst' };
