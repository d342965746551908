// The virtual network: TCP connections between the guest's sockets and
// simulated clients. A connection is two Endpoints joined by FIFO channels
// with latency; each endpoint has a receive window (flow control makes slow
// readers push back on the sender, which is what produces short and blocked
// sends), FIN and RST are segments in the same FIFO, and a socket closed with
// unread data resets the connection, as Linux does.
import { AF_INET, AF_INET6, ECONNREFUSED, ECONNRESET, ETIMEDOUT } from './consts.ts';
import type { World } from './world.ts';

/** An address as data: v4 in the low 32 bits of `lo` (127.0.0.1 = 0x7f000001). */
export interface Addr {
  family: number;
  port: number;
  hi: bigint;
  lo: bigint;
}

export const LOOPBACK4 = 0x7f000001n;
export const V4MAPPED_LO_PREFIX = 0xffff00000000n;

/** A byte queue of chunks (no copying on append). */
class ByteQueue {
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

type Segment = { kind: 'data'; bytes: Uint8Array } | { kind: 'fin' } | { kind: 'rst' };

/** What the kernel's listening socket offers the network. */
export interface Listener {
  readonly local: Addr;
  readonly v6only: boolean;
  readonly reusePort: boolean;
  /** True when the accept queue is over the backlog (the SYN is dropped). */
  queueFull(): boolean;
  /** A new established connection waiting for accept. */
  enqueue(ep: Endpoint): void;
}

export interface ClientOptions {
  /** IPv4 (127.0.0.1) or IPv6 (::1). */
  family?: 4 | 6;
  /** Receive window of the client, bytes. */
  rcvCap?: number;
  /** Read automatically whenever data arrives (else call `read`). */
  autoRead?: boolean;
  /** Bytes taken per automatic read. */
  readChunk?: readonly [number, number];
  /** Delay before each automatic read, ns (slow readers). */
  readDelay?: readonly [number, number];
  /** Largest segment the client's kernel sends at once. */
  segMax?: number;
}

export type ClientState = 'idle' | 'connecting' | 'connected' | 'closed';

/** A remote peer on the virtual network: its own tiny TCP stack plus a socket-like API. */
export class SimClient {
  state: ClientState = 'idle';
  /** Error the client saw (ECONNREFUSED, ECONNRESET, ETIMEDOUT), 0 if none. */
  error = 0;
  /** The server's FIN was read (all data before it consumed). */
  eof = false;
  /** Bytes the application wrote and the stack has not transmitted yet. */
  private outbox: Uint8Array[] = [];
  private outHead = 0;
  private outOff = 0;
  outboxBytes = 0;
  bytesWritten = 0;
  bytesTransmitted = 0;
  bytesRead = 0;
  private finPending = false;
  private synTries = 0;
  private readScheduled = false;
  ep: Endpoint | undefined;
  /** Set once the server side has been linked: the guest socket that holds it. */
  serverEp: Endpoint | undefined;
  readonly opts: Required<ClientOptions>;
  /** Called with every chunk read (automatic reads). */
  onData: (bytes: Uint8Array) => void = () => {};
  /** Called once, on EOF or error. */
  onEnd: () => void = () => {};
  onConnect: () => void = () => {};
  port = 0;

  constructor(readonly net: Net, readonly id: number, opts: ClientOptions = {}) {
    this.opts = {
      family: opts.family ?? 4,
      rcvCap: opts.rcvCap ?? 65536,
      autoRead: opts.autoRead ?? true,
      readChunk: opts.readChunk ?? [65536, 65536],
      readDelay: opts.readDelay ?? [1000, 1000],
      segMax: opts.segMax ?? 65536,
    };
  }

  get world(): World {
    return this.net.world;
  }

  get done(): boolean {
    return this.error !== 0 || this.eof || this.state === 'closed';
  }

  connect(port: number): void {
    if (this.state !== 'idle') throw new Error(`client ${this.id}: connect in state ${this.state}`);
    this.state = 'connecting';
    this.port = port;
    this.net.world.trace.note(`client ${this.id} connect :${port}`);
    this.world.after(this.world.delay(this.world.faults.latency), () => this.syn());
  }

  private syn(): void {
    if (this.state !== 'connecting') return;
    const lst = this.net.lookup(this.port, this.opts.family, this.id);
    if (lst === undefined) {
      this.world.after(this.world.delay(this.world.faults.latency), () => this.fail(ECONNREFUSED));
      return;
    }
    if (lst.queueFull()) {
      // SYN dropped: retransmit with exponential backoff, as Linux does (1 s, 2 s, ...).
      this.synTries++;
      if (this.synTries > 6) {
        this.fail(ETIMEDOUT);
        return;
      }
      this.net.world.trace.note(`client ${this.id} SYN dropped (backlog full), retry ${this.synTries}`);
      this.world.after(1_000_000_000 * 2 ** (this.synTries - 1), () => this.syn());
      return;
    }
    const clientAddr = this.net.clientAddr(this.opts.family, lst.local);
    const serverAddr: Addr = { ...lst.local };
    if (this.opts.family === 6) {
      serverAddr.hi = 0n;
      serverAddr.lo = 1n;
    } else if (lst.local.family === AF_INET6) {
      serverAddr.hi = 0n;
      serverAddr.lo = V4MAPPED_LO_PREFIX | LOOPBACK4;
    } else {
      serverAddr.lo = LOOPBACK4;
    }
    const c = new Endpoint(this.net, this.net.nextEpId++, this.opts.rcvCap, { ...clientAddr, family: this.opts.family === 6 ? AF_INET6 : AF_INET, lo: this.opts.family === 6 ? 1n : LOOPBACK4 }, serverAddr);
    const s = new Endpoint(this.net, this.net.nextEpId++, this.net.serverRcvCap(), serverAddr, clientAddr);
    c.peer = s;
    s.peer = c;
    c.clientId = this.id;
    s.clientId = this.id;
    c.onChange = () => this.changed();
    this.ep = c;
    this.serverEp = s;
    lst.enqueue(s);
    this.world.after(this.world.delay(this.world.faults.latency), () => {
      if (this.state !== 'connecting') return;
      this.state = 'connected';
      this.net.world.trace.note(`client ${this.id} connected (local port ${clientAddr.port})`);
      this.onConnect();
      this.changed();
    });
  }

  private fail(errno: number): void {
    if (this.error !== 0 || this.state === 'closed') return;
    this.error = errno;
    this.net.world.trace.note(`client ${this.id} error ${errno}`);
    this.onEnd();
  }

  /** Queues bytes to send (the stack transmits as the window allows). */
  write(bytes: Uint8Array): void {
    if (this.finPending || this.state === 'closed') throw new Error(`client ${this.id}: write after shutdown/close`);
    if (bytes.length === 0) return;
    this.outbox.push(bytes);
    this.outboxBytes += bytes.length;
    this.bytesWritten += bytes.length;
    this.pump();
  }

  /** Half-close: FIN after everything written. */
  shutdownWrite(): void {
    if (this.finPending) return;
    this.finPending = true;
    this.net.world.trace.note(`client ${this.id} shutdown(WR)`);
    this.pump();
  }

  /**
   * Full close: queued data still goes out (the kernel owns it now), then FIN —
   * or RST at once if unread data is pending, as Linux's tcp_close does.
   */
  close(): void {
    if (this.state === 'closed') return;
    const ep = this.ep;
    this.net.world.trace.note(`client ${this.id} close (unread ${ep?.rcvBytes ?? 0}, unsent ${this.outboxBytes})`);
    this.finPending = true;
    this.state = 'closed';
    if (ep === undefined) return;
    if (ep.rcvBytes > 0) {
      this.dropOutbox();
      ep.abort();
      return;
    }
    if (this.outboxBytes > 0 && !ep.broken) {
      const all = new Uint8Array(this.outboxBytes);
      let k = 0;
      for (let i = this.outHead; i < this.outbox.length; i++) {
        const c = this.outbox[i]!.subarray(i === this.outHead ? this.outOff : 0);
        all.set(c, k);
        k += c.length;
      }
      this.bytesTransmitted += all.length;
      ep.transmit(all);
    }
    this.dropOutbox();
    ep.release();
  }

  /** Abortive close: RST now, unsent data discarded. */
  reset(): void {
    if (this.state === 'closed') return;
    this.net.world.trace.note(`client ${this.id} reset`);
    this.dropOutbox();
    this.ep?.abort();
    this.state = 'closed';
  }

  private dropOutbox(): void {
    this.outbox = [];
    this.outHead = 0;
    this.outOff = 0;
    this.outboxBytes = 0;
  }

  /** Manual read (when autoRead is off). Undefined when nothing is buffered. */
  read(max = 1 << 30): Uint8Array | undefined {
    const ep = this.ep;
    if (ep === undefined || ep.rcvBytes === 0) return undefined;
    const n = Math.min(max, ep.rcvBytes);
    const out = new Uint8Array(n);
    ep.read(out, 0, n);
    this.bytesRead += n;
    this.checkEnd();
    return out;
  }

  private changed(): void {
    if (this.state === 'closed') return;
    this.pump();
    const ep = this.ep;
    if (ep === undefined) return;
    if (this.opts.autoRead && ep.rcvBytes > 0 && !this.readScheduled) {
      this.readScheduled = true;
      this.world.after(this.world.delay(this.opts.readDelay), () => this.autoRead());
    }
    this.checkEnd();
  }

  private autoRead(): void {
    this.readScheduled = false;
    const ep = this.ep;
    if (ep === undefined || ep.closed) return;
    if (ep.rcvBytes > 0) {
      const n = Math.min(ep.rcvBytes, this.world.delay(this.opts.readChunk));
      const out = new Uint8Array(n);
      ep.read(out, 0, n);
      this.bytesRead += n;
      this.onData(out);
    }
    this.changed();
  }

  private checkEnd(): void {
    const ep = this.ep;
    if (ep === undefined || this.eof || this.error !== 0) return;
    if (ep.rcvBytes > 0) return;
    if (ep.rstRcvd) {
      this.fail(ECONNRESET);
    } else if (ep.finRcvd) {
      this.eof = true;
      this.net.world.trace.note(`client ${this.id} EOF after ${this.bytesRead} bytes`);
      this.onEnd();
    }
  }

  private pump(): void {
    const ep = this.ep;
    if (ep === undefined || this.state !== 'connected' || ep.rstRcvd || ep.rstSent) return;
    const f = this.world.faults;
    while (this.outboxBytes > 0) {
      const space = ep.space();
      if (space <= 0) break;
      let n = Math.min(this.outboxBytes, space, this.opts.segMax);
      if (n > 1 && this.world.rng.chance(f.segmentSplit)) n = this.world.rng.int(1, n - 1);
      const seg = new Uint8Array(n);
      let k = 0;
      while (k < n) {
        const c = this.outbox[this.outHead]!;
        const m = Math.min(c.length - this.outOff, n - k);
        seg.set(c.subarray(this.outOff, this.outOff + m), k);
        k += m;
        this.outOff += m;
        if (this.outOff === c.length) {
          this.outbox[this.outHead] = EMPTY;
          this.outHead++;
          this.outOff = 0;
        }
      }
      this.outboxBytes -= n;
      this.bytesTransmitted += n;
      ep.transmit(seg);
    }
    if (this.outHead > 64 && this.outHead * 2 > this.outbox.length) {
      this.outbox = this.outbox.slice(this.outHead);
      this.outHead = 0;
    }
    if (this.outboxBytes === 0 && this.finPending && !ep.finSent) ep.sendFin();
  }
}

const EMPTY = new Uint8Array(0);

export class Net {
  private readonly listeners = new Map<number, Listener[]>();
  readonly clients: SimClient[] = [];
  nextEpId = 1;
  private nextClientPort = 40000;
  /** Receive window of server-side sockets (SO_RCVBUF-ish). */
  serverWindow: readonly [number, number] = [65536, 65536];

  constructor(readonly world: World) {}

  serverRcvCap(): number {
    return this.world.delay(this.serverWindow);
  }

  client(opts: ClientOptions = {}): SimClient {
    const c = new SimClient(this, this.clients.length, opts);
    this.clients.push(c);
    return c;
  }

  clientAddr(family: 4 | 6, server: Addr): Addr {
    const port = this.nextClientPort++;
    if (this.nextClientPort > 60999) this.nextClientPort = 40000;
    if (family === 6) return { family: AF_INET6, port, hi: 0n, lo: 1n };
    if (server.family === AF_INET6) return { family: AF_INET6, port, hi: 0n, lo: V4MAPPED_LO_PREFIX | LOOPBACK4 };
    return { family: AF_INET, port, hi: 0n, lo: LOOPBACK4 };
  }

  addListener(port: number, l: Listener): void {
    const list = this.listeners.get(port) ?? [];
    list.push(l);
    this.listeners.set(port, list);
  }

  removeListener(port: number, l: Listener): void {
    const list = this.listeners.get(port);
    if (list === undefined) return;
    const i = list.indexOf(l);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.listeners.delete(port);
  }

  /** The listener a SYN to `port` reaches (REUSEPORT groups pick by client id). */
  lookup(port: number, family: 4 | 6, clientId: number): Listener | undefined {
    const list = this.listeners.get(port);
    if (list === undefined) return undefined;
    const ok = list.filter((l) => accepts(l, family));
    if (ok.length === 0) return undefined;
    return ok[clientId % ok.length];
  }

  send(from: Endpoint, seg: Segment): void {
    const to = from.peer;
    const w = this.world;
    const t = Math.max(w.now + w.delay(w.faults.latency), to.lastArrival);
    to.lastArrival = t;
    if (seg.kind === 'data') to.inflight += seg.bytes.length;
    w.after(t - w.now, () => this.arrive(to, seg));
  }

  private arrive(to: Endpoint, seg: Segment): void {
    if (seg.kind === 'data') to.inflight -= seg.bytes.length;
    if (to.closed) {
      // A closed socket answers data with RST (the peer learns it is gone).
      if (seg.kind === 'data' && !to.rstRcvd) to.sendRst();
      return;
    }
    if (to.rstRcvd) return;
    switch (seg.kind) {
      case 'data':
        to.rcv.push(seg.bytes);
        break;
      case 'fin':
        to.finRcvd = true;
        break;
      case 'rst':
        to.rstRcvd = true;
        to.err = ECONNRESET;
        break;
    }
    to.onChange();
  }

  /** Tells an endpoint's owner, after the current event, that something changed. */
  notifyLater(ep: Endpoint): void {
    this.world.after(0, () => ep.onChange());
  }
}

function accepts(l: Listener, family: 4 | 6): boolean {
  const a = l.local;
  if (family === 4) {
    if (a.family === AF_INET) return a.lo === 0n || a.lo === LOOPBACK4;
    return !l.v6only && a.hi === 0n && a.lo === 0n;
  }
  return a.family === AF_INET6 && a.hi === 0n && (a.lo === 0n || a.lo === 1n);
}
