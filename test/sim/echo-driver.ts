// A small echo server over the reactor API, for the simulator: on every ring
// wake-up it ticks, checks each event against what the simulated clients sent,
// writes received ranges back, releases buffers (at once, or after they were
// sent), and submits. Every check failure is recorded, never thrown: the
// runner reports them with the seed.
import type { Reactor } from '../../bridge/backend.ts';
import type { SimBackend } from '../../bridge/sim/index.ts';

import { EV_CLOSED, EV_DATA, EV_EOF, EV_ERROR, EV_OPEN, EV_SENT } from '../../bridge/consts.ts';
export { EV_CLOSED, EV_DATA, EV_EOF, EV_ERROR, EV_OPEN, EV_SENT };

export interface DriverPolicy {
  /** Release a buffer right after `write` (the write holds its own reference) or after `sent`. */
  releaseAfterSent: boolean;
  /** Probability, per data event, that the server closes the connection itself. */
  serverClose: number;
  /** When it does: abortive close instead of graceful. */
  serverAbort: number;
  /** On EOF, call `shutdown` first and `close` once everything was sent. */
  shutdownOnEof: boolean;
}

interface Conn {
  slot: number;
  fd: number;
  client: number;
  /** Bytes of the client's stream delivered so far. */
  recvPos: number;
  /** Writes not yet reported sent: bid (or -1 when already released) and length. */
  writes: { bid: number; len: number }[];
  /** Bytes reported sent beyond the completed ranges (partial progress on the next one). */
  carry: number;
  eof: boolean;
  closing: boolean;
  wantCloseAfterDrain: boolean;
  /** A reactor call on this conn failed: legal only if its `closed` event is later in the same batch. */
  apiError: string | undefined;
}

export class EchoDriver {
  readonly failures: string[] = [];
  readonly conns = new Map<number, Conn>();
  /** Clients whose connection the server chose to close (their echo may be cut short). */
  readonly serverClosed = new Set<number>();
  /** Clients that got an open event. */
  readonly opened = new Set<number>();
  readonly closedErrnos: number[] = [];
  /** errno of the `closed` event of each client's connection. */
  readonly closedErrnoByClient = new Map<number, number>();
  listenerErrors: number[] = [];
  opens = 0;
  closes = 0;
  wakes = 0;
  events = 0;
  private recvSlab = 0;
  private slabBytes: Uint8Array = new Uint8Array(0);
  private stopWatch: (() => void) | undefined;
  /** Set when the reactor trapped: nothing may call into it any more. */
  dead = false;

  constructor(
    readonly sim: SimBackend,
    readonly reactor: Reactor,
    readonly policy: DriverPolicy,
    /** The bytes client `id` sends, in order. */
    readonly clientData: (id: number) => Uint8Array,
  ) {}

  start(): void {
    this.recvSlab = this.reactor.recvSlab();
    this.slabBytes = new Uint8Array(this.sim.slabBuffer(this.recvSlab));
    this.stopWatch = this.sim.watch(this.reactor.ring(), () => this.onReady());
    this.call('submit', () => this.reactor.submit());
  }

  stop(): void {
    this.stopWatch?.();
    this.stopWatch = undefined;
  }

  fail(msg: string): void {
    if (this.failures.length < 20) this.failures.push(msg);
  }

  /** Calls into the reactor; a trap (ZL_ASSERT) is a failure and ends the driver. */
  call<T>(what: string, fn: () => T): T | undefined {
    if (this.dead) return undefined;
    try {
      return fn();
    } catch (e) {
      this.dead = true;
      this.fail(`reactor trapped in ${what}: ${(e as Error).message}`);
      this.stop();
      return undefined;
    }
  }

  onReady(): void {
    this.wakes++;
    const ring = this.sim.kernel.ring(this.reactor.ring());
    for (let i = 0; i < 64 && !this.dead; i++) {
      const ev = this.call('tick', () => this.reactor.tick());
      if (ev === undefined) return;
      this.handle(ev);
      this.call('submit', () => this.reactor.submit());
      if (ev.length === 0 && (ring === undefined || ring.cqCount === 0)) return;
    }
    // more work than one wake-up takes: come back like a still-readable eventfd would
    ring?.signal();
  }

  private handle(ev: Uint32Array | number[]): void {
    for (let j = 0; j + 3 < ev.length; j += 4) {
      this.events++;
      const w0 = ev[j]!, w1 = ev[j + 1]!, w2 = ev[j + 2]!, w3 = ev[j + 3]!;
      const kind = w0 & 0xff;
      const slot = w0 >>> 8;
      switch (kind) {
        case EV_OPEN:
          this.onOpen(slot, w1);
          break;
        case EV_DATA:
          this.onData(slot, w1, w2, w3);
          break;
        case EV_EOF:
          this.onEof(slot);
          break;
        case EV_SENT:
          this.onSent(slot, w1, w2);
          break;
        case EV_CLOSED:
          this.onClosed(slot, w1);
          break;
        case EV_ERROR:
          this.listenerErrors.push(w1);
          break;
        default:
          this.fail(`unknown event kind ${kind} (w0=0x${w0.toString(16)})`);
      }
      if (this.dead) return;
    }
    if (ev.length % 4 !== 0) this.fail(`event batch of ${ev.length} words is not a multiple of 4`);
    for (const c of this.conns.values()) {
      if (c.apiError !== undefined) {
        this.fail(`${c.apiError} on slot ${c.slot} (client ${c.client}), and no closed event followed in the batch`);
        c.apiError = undefined;
      }
    }
  }

  private onOpen(slot: number, fd: number): void {
    if (this.conns.has(slot)) this.fail(`open on slot ${slot} that is still open`);
    const sock = this.sim.kernel.sockAt(fd);
    if (sock === undefined || sock.ep === undefined) {
      this.fail(`open event for fd ${fd}, which is not an accepted socket`);
      return;
    }
    const client = sock.ep.clientId;
    if (sock.tag['opened'] === true) this.fail(`second open event for the socket of client ${client} (fd ${fd})`);
    sock.tag['opened'] = true;
    this.opened.add(client);
    this.opens++;
    this.conns.set(slot, { slot, fd, client, recvPos: 0, writes: [], carry: 0, eof: false, closing: false, wantCloseAfterDrain: false, apiError: undefined });
  }

  private onData(slot: number, bid: number, off: number, len: number): void {
    const c = this.conns.get(slot);
    if (c === undefined) {
      this.fail(`data event for slot ${slot}, which is not open`);
      return;
    }
    if (c.eof) this.fail(`data after EOF on slot ${slot} (client ${c.client})`);
    if (len === 0 || off + len > this.slabBytes.length) {
      this.fail(`data event out of the recv slab: off ${off} len ${len}`);
      return;
    }
    const want = this.clientData(c.client);
    const got = this.slabBytes.subarray(off, off + len);
    if (c.recvPos + len > want.length) {
      this.fail(`CQE delivered to the wrong connection: slot ${slot} (client ${c.client}) got ${len} bytes at ${c.recvPos}, past the ${want.length} its client sent`);
    } else {
      for (let i = 0; i < len; i++) {
        if (got[i] !== want[c.recvPos + i]) {
          this.fail(`CQE delivered to the wrong connection (or corrupted): slot ${slot} (client ${c.client}) byte ${c.recvPos + i} differs`);
          break;
        }
      }
    }
    c.recvPos += len;
    const rng = this.sim.world.rng;
    if (c.closing) {
      this.release(bid);
      return;
    }
    const w = this.call('write', () => this.reactor.write(slot, this.recvSlab, off, len));
    if (w === undefined) return;
    if (w < 0) {
      this.release(bid);
    } else if (this.policy.releaseAfterSent) {
      c.writes.push({ bid, len });
    } else {
      c.writes.push({ bid: -1, len });
      this.release(bid);
    }
    if (this.policy.serverClose > 0 && rng.chance(this.policy.serverClose)) {
      c.closing = true;
      this.serverClosed.add(c.client);
      const abort = rng.chance(this.policy.serverAbort);
      this.call('close', () => this.reactor.close(slot, abort));
    }
  }

  private release(bid: number): void {
    const r = this.call('release', () => this.reactor.release(bid));
    if (r !== undefined && r < 0) this.fail(`release(${bid}) = ${r}`);
  }

  private onEof(slot: number): void {
    const c = this.conns.get(slot);
    if (c === undefined) {
      this.fail(`eof event for slot ${slot}, which is not open`);
      return;
    }
    if (c.eof) this.fail(`second eof on slot ${slot}`);
    c.eof = true;
    if (c.closing) return;
    if (this.policy.shutdownOnEof) {
      const r = this.call('shutdown', () => this.reactor.shutdown(slot));
      if (r !== undefined && r < 0) c.apiError = `shutdown(${slot}) = ${r}`;
      c.wantCloseAfterDrain = true;
      this.maybeCloseDrained(c);
    } else {
      c.closing = true;
      this.call('close', () => this.reactor.close(slot, false));
    }
  }

  private maybeCloseDrained(c: Conn): void {
    if (c.wantCloseAfterDrain && !c.closing && c.writes.length === 0) {
      c.closing = true;
      this.call('close', () => this.reactor.close(c.slot, false));
    }
  }

  private onSent(slot: number, ranges: number, bytes: number): void {
    const c = this.conns.get(slot);
    if (c === undefined) {
      this.fail(`sent event for slot ${slot}, which is not open`);
      return;
    }
    if (ranges > c.writes.length) {
      this.fail(`sent event for ${ranges} ranges on slot ${slot}, only ${c.writes.length} written (a send CQE of another connection?)`);
      return;
    }
    // w2 counts every byte sent, including progress into the next, unfinished range
    let avail = c.carry + bytes;
    for (const w of c.writes.splice(0, ranges)) {
      avail -= w.len;
      if (w.bid >= 0) this.release(w.bid);
    }
    const next = c.writes[0];
    if (avail < 0 || (next === undefined ? avail !== 0 : avail >= next.len)) {
      this.fail(`sent event on slot ${slot} (${ranges} ranges, ${bytes} bytes) does not match the written ranges (carry ${avail})`);
      avail = 0;
    }
    c.carry = avail;
    this.maybeCloseDrained(c);
  }

  private onClosed(slot: number, errno: number): void {
    const c = this.conns.get(slot);
    if (c === undefined) {
      this.fail(`closed event for slot ${slot}, which is not open (closed twice?)`);
      return;
    }
    for (const w of c.writes) if (w.bid >= 0) this.release(w.bid);
    this.conns.delete(slot);
    this.closes++;
    this.closedErrnos.push(errno);
    this.closedErrnoByClient.set(c.client, errno);
  }
}
