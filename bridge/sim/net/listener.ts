// What a SYN meets: the kernel's listening sockets as the network sees them,
// and which of them accept a client of a given family (wildcard, loopback,
// dual-stack v6 unless IPV6_V6ONLY).
import { AF_INET, AF_INET6 } from '../consts.ts';
import { LOOPBACK4, type Addr } from './addr.ts';
import type { Endpoint } from './endpoint.ts';

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

export function accepts(l: Listener, family: 4 | 6): boolean {
  const a = l.local;
  if (family === 4) {
    if (a.family === AF_INET) return a.lo === 0n || a.lo === LOOPBACK4;
    return !l.v6only && a.hi === 0n && a.lo === 0n;
  }
  return a.family === AF_INET6 && a.hi === 0n && (a.lo === 0n || a.lo === 1n);
}
