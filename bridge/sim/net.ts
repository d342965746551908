// The virtual network: TCP connections between the guest's sockets and
// simulated clients. A connection is two Endpoints joined by FIFO channels
// with latency; each endpoint has a receive window (flow control makes slow
// readers push back on the sender, which is what produces short and blocked
// sends), FIN and RST are segments in the same FIFO, and a socket closed with
// unread data resets the connection, as Linux does.
//
// This file keeps the network itself (listeners, client ports, segment
// delivery); the parts live in net/: addr.ts, byte-queue.ts (receive buffers
// and clients' unsent bytes), endpoint.ts, listener.ts, client.ts. Everything
// public is re-exported from here.
import { AF_INET, AF_INET6, ECONNRESET } from './consts.ts';
import type { World } from './world.ts';
import { LOOPBACK4, V4MAPPED_LO_PREFIX, type Addr } from './net/addr.ts';
import type { Endpoint, Segment } from './net/endpoint.ts';
import { accepts, type Listener } from './net/listener.ts';
import { SimClient, type ClientOptions } from './net/client.ts';

export { LOOPBACK4, V4MAPPED_LO_PREFIX } from './net/addr.ts';
export type { Addr } from './net/addr.ts';
export { Endpoint } from './net/endpoint.ts';
export type { Listener } from './net/listener.ts';
export { SimClient } from './net/client.ts';
export type { ClientOptions, ClientState } from './net/client.ts';

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
