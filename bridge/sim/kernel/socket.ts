// Guest TCP sockets: the socket object and the calls that create, bind,
// listen on, shut down and name it. Options and fcntl: sockopt.ts.
import * as C from '../consts.ts';
import type { Addr, Endpoint, Listener } from '../net.ts';
import { File } from './files.ts';
import { sockAddr } from './inet.ts';
import type { Op } from './op.ts';
import type { KernelState } from './state.ts';
import type { SockAddr, SockAddrIn, SockAddrIn6 } from './types.ts';

export type SockState = 'fresh' | 'bound' | 'listening' | 'connected' | 'closed';

/** A guest TCP socket (listening or connected). */
export class Sock extends File implements Listener {
  readonly kind = 'sock';
  state: SockState = 'fresh';
  local: Addr;
  v6only = false;
  reuseAddr = false;
  reusePort = false;
  nodelay = false;
  keepalive = false;
  rcvbuf = 131072;
  sndbuf = 16384;
  fdFlags = 0;
  flFlags = C.O_RDWR;
  backlog = 0;
  readonly acceptQ: Endpoint[] = [];
  ep: Endpoint | undefined;
  /** Requests armed on this socket, woken when its state changes. */
  readonly waiters = new Set<Op>();
  /** close(fd) calls the guest made on fds naming this socket. */
  closeCount = 0;
  /** Set by tests/runners (e.g. "the app saw an open event for this socket"). */
  tag: Record<string, unknown> = {};
  /** fd the socket was given when created or accepted. */
  fd = -1;

  constructor(readonly kernel: KernelState, readonly domain: number) {
    super();
    this.local = { family: domain, port: 0, hi: 0n, lo: 0n };
  }

  queueFull(): boolean {
    return this.acceptQ.length > this.backlog;
  }

  enqueue(ep: Endpoint): void {
    this.acceptQ.push(ep);
    ep.owner = this;
    this.kernel.wake(this);
  }

  /** Stops listening: connections still queued are reset. */
  stopListening(): void {
    if (this.state !== 'listening') return;
    this.kernel.net.removeListener(this.local.port, this);
    for (const ep of this.acceptQ.splice(0)) ep.abort();
    this.state = 'closed';
    this.kernel.wake(this);
  }

  released(): void {
    if (this.state === 'listening') this.stopListening();
    if (this.ep !== undefined) this.ep.release();
    this.state = 'closed';
    this.kernel.liveSockets.delete(this);
  }
}

/** The guest's socket behind `fd`, or undefined when the fd is not the guest's. */
export function guestSock(k: KernelState, fd: number): Sock | undefined {
  if (!k.files.owns(fd)) return undefined;
  const f = k.files.at(fd);
  return f instanceof Sock ? f : undefined;
}

/** Why `fd` has no guest socket: the guest's but not a socket, or not the guest's at all. */
export function notSock(k: KernelState, fd: number): number {
  return k.files.owns(fd) ? -C.ENOTSOCK : -C.EBADF;
}

export function socket(k: KernelState, domain: number, type: number, protocol: number): number {
  if (domain !== C.AF_INET && domain !== C.AF_INET6) return -C.EAFNOSUPPORT;
  if ((type & ~(C.SOCK_NONBLOCK | C.SOCK_CLOEXEC | 0xf)) !== 0) return -C.EINVAL;
  if ((type & 0xf) !== C.SOCK_STREAM) return -C.EINVAL;
  if (protocol !== 0 && protocol !== C.IPPROTO_TCP) return -C.EPROTONOSUPPORT;
  const s = new Sock(k, domain);
  s.fdFlags = C.FD_CLOEXEC; // the host always adds SOCK_CLOEXEC
  s.flFlags = C.O_RDWR | ((type & C.SOCK_NONBLOCK) !== 0 ? C.O_NONBLOCK : 0);
  const fd = k.files.install(s, true);
  if (fd < 0) return fd;
  s.fd = fd;
  k.liveSockets.add(s);
  return fd;
}

function portTaken(k: KernelState, s: Sock, port: number): boolean {
  for (const o of k.liveSockets) {
    if (o === s || o.local.port !== port) continue;
    if (o.state !== 'bound' && o.state !== 'listening') continue;
    if (s.reusePort && o.reusePort) continue;
    return true;
  }
  return false;
}

function doBind(k: KernelState, s: Sock, a: Addr): number {
  if (s.state !== 'fresh') return -C.EINVAL;
  let port = a.port;
  if (port === 0) {
    for (let i = 0; i < 28232; i++) {
      const p = k.nextEphemeral++;
      if (k.nextEphemeral > 60999) k.nextEphemeral = 32768;
      if (!portTaken(k, s, p)) {
        port = p;
        break;
      }
    }
    if (port === 0) return -C.EADDRINUSE;
  } else if (portTaken(k, s, port)) return -C.EADDRINUSE;
  s.local = { ...a, port };
  s.state = 'bound';
  return 0;
}

export function bind(k: KernelState, fd: number, addr: SockAddrIn): number {
  const s = guestSock(k, fd);
  if (s === undefined) return notSock(k, fd);
  if (s.domain !== C.AF_INET) return -C.EINVAL;
  const a = addr.addr >>> 0;
  if (a !== 0 && (a >>> 24) !== 127) return -C.EADDRNOTAVAIL;
  return doBind(k, s, { family: C.AF_INET, port: addr.port, hi: 0n, lo: BigInt(a) });
}

export function bind6(k: KernelState, fd: number, addr: SockAddrIn6): number {
  const s = guestSock(k, fd);
  if (s === undefined) return notSock(k, fd);
  if (s.domain !== C.AF_INET6) return -C.EINVAL;
  const any = addr.hi === 0n && addr.lo === 0n;
  const lo = addr.hi === 0n && addr.lo === 1n;
  if (!any && !lo) return -C.EADDRNOTAVAIL;
  return doBind(k, s, { family: C.AF_INET6, port: addr.port, hi: addr.hi, lo: addr.lo });
}

export function listen(k: KernelState, fd: number, backlog: number): number {
  const s = guestSock(k, fd);
  if (s === undefined) return notSock(k, fd);
  if (s.state === 'connected' || s.state === 'closed') return -C.EINVAL;
  if (s.state === 'fresh') {
    // Linux autobinds an unbound socket on listen
    const e = doBind(k, s, { family: s.domain, port: 0, hi: 0n, lo: 0n });
    if (e < 0) return e;
  }
  const b = backlog >>> 0;
  s.backlog = b > C.SOMAXCONN ? C.SOMAXCONN : b;
  if (s.state !== 'listening') {
    s.state = 'listening';
    k.net.addListener(s.local.port, s);
  }
  return 0;
}

export function shutdown(k: KernelState, fd: number, how: number): number {
  const s = guestSock(k, fd);
  if (s === undefined) return notSock(k, fd);
  if (how !== C.SHUT_RD && how !== C.SHUT_WR && how !== C.SHUT_RDWR) return -C.EINVAL;
  if (s.state === 'listening') {
    if (how !== C.SHUT_WR) s.stopListening();
    return 0;
  }
  if (s.state !== 'connected' || s.ep === undefined) return -C.ENOTCONN;
  const ep = s.ep;
  if (ep.rstRcvd) return -C.ENOTCONN;
  if (how !== C.SHUT_WR) ep.rdShut = true;
  if (how !== C.SHUT_RD && !ep.wrShut) {
    ep.wrShut = true;
    ep.sendFin();
  }
  k.wake(s);
  return 0;
}

export function getsockname(k: KernelState, fd: number): SockAddr {
  const s = guestSock(k, fd);
  if (s === undefined) return sockAddr(notSock(k, fd), 0, 0, 0n, 0n);
  return sockAddr(0, s.local.family, s.local.port, s.local.hi, s.local.lo);
}

export function getpeername(k: KernelState, fd: number): SockAddr {
  const s = guestSock(k, fd);
  if (s === undefined) return sockAddr(notSock(k, fd), 0, 0, 0n, 0n);
  if (s.state !== 'connected' || s.ep === undefined || s.ep.rstRcvd) return sockAddr(-C.ENOTCONN, 0, 0, 0n, 0n);
  const a = s.ep.remote;
  return sockAddr(0, a.family, a.port, a.hi, a.lo);
}
