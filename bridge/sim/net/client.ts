// A simulated remote peer: its own small TCP stack (connect with SYN
// retransmission, an outbox drained as the server's window allows, segment
// splitting, slow automatic reads) behind a socket-like API for scenarios.
import { AF_INET, AF_INET6, ECONNREFUSED, ECONNRESET, ETIMEDOUT } from '../consts.ts';
import type { World } from '../world.ts';
import type { Net } from '../net.ts';
import { LOOPBACK4, serverAddrFor } from './addr.ts';
import { Endpoint } from './endpoint.ts';
import { ByteQueue } from './byte-queue.ts';

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
  private readonly outbox = new ByteQueue();
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

  get outboxBytes(): number {
    return this.outbox.bytes;
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
    const serverAddr = serverAddrFor(this.opts.family, lst.local);
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
    this.net.world.trace.note(`client ${this.id} close (unread ${ep?.rcvBytes ?? 0}, unsent ${this.outbox.bytes})`);
    this.finPending = true;
    this.state = 'closed';
    if (ep === undefined) return;
    if (ep.rcvBytes > 0) {
      this.dropOutbox();
      ep.abort();
      return;
    }
    if (this.outbox.bytes > 0 && !ep.broken) {
      const all = this.outbox.all();
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
    this.outbox.clear();
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
    while (this.outbox.bytes > 0) {
      const space = ep.space();
      if (space <= 0) break;
      let n = Math.min(this.outbox.bytes, space, this.opts.segMax);
      if (n > 1 && this.world.rng.chance(f.segmentSplit)) n = this.world.rng.int(1, n - 1);
      const seg = this.outbox.shift(n);
      this.bytesTransmitted += n;
      ep.transmit(seg);
    }
    if (this.outbox.bytes === 0 && this.finPending && !ep.finSent) ep.sendFin();
  }
}
