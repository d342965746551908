// Shared by the bridge tests and bench/bridge.ts: the probe guest
// (wasm/probe/*.c, world `probe` in wasm/wit/probe.wit) instantiated against
// the native backend, with every host import counted on its way out of Wasm.
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { instantiate } from '../../bridge/gen/probe/probe.js';
import type { FuzzReport, SeenCqe } from '../../bridge/gen/probe/interfaces/zergling-reactor-probe-api.js';
import { coreModule } from '../../bridge/index.ts';
import type { Backend, Host } from '../../bridge/index.ts';
import { createNativeBackend } from '../../bridge/native.ts';

export type { FuzzReport, SeenCqe };
export type Probe = ReturnType<typeof instantiate>['probeApi'];

// Linux values (host.wit's numbering).
export const EBADF = -9, EFAULT = -14, EINVAL = -22, ETIME = -62, ECANCELED = -125, EAFNOSUPPORT = -97;
export const AF_INET = 2, AF_INET6 = 10, SOCK_STREAM = 1, SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
export const SOL_SOCKET = 1, SO_REUSEADDR = 2, IPPROTO_IPV6 = 41, IPV6_V6ONLY = 26;
export const F_GETFD = 1, F_GETFL = 3, F_SETFL = 4, O_NONBLOCK = 0x800;
export const SHUT_WR = 1, MSG_NOSIGNAL = 0x4000;
export const SETUP_SQPOLL = 0x2, SETUP_SQ_AFF = 0x4, SETUP_SINGLE_ISSUER = 0x1000, SETUP_DEFER_TASKRUN = 0x2000;
export const ENTER_GETEVENTS = 1;
export const CQE_F_BUFFER = 0x1, CQE_F_MORE = 0x2, CQE_F_BUF_MORE = 0x10;
export const PBUF_RING_INC = 2;
export const MS = 1_000_000n; // ns

/** The kebab-case import names of `interface host`, read from the WIT itself. */
export function hostImportNames(): string[] {
  const wit = readFileSync(fileURLToPath(new URL('../../wasm/wit/host.wit', import.meta.url)), 'utf8');
  return [...wit.matchAll(/^\s*%?([a-z0-9-]+): func\(/gm)].map((m) => m[1]!);
}

export function camel(kebab: string): string {
  return kebab.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export interface ProbeEnv {
  backend: Backend;
  probe: Probe;
  /** Host calls made by the guest, per camelCase import name. */
  counts: Map<string, number>;
  totalCalls(): number;
}

/**
 * A probe instance on the native backend. With `counted`, each import is
 * wrapped to count its calls (off for the benchmark: the wrapper costs more
 * than the calls it would measure).
 */
export function loadProbe(counted = true, backend: Backend = createNativeBackend(), wrap?: (h: Host) => Host): ProbeEnv {
  const counts = new Map<string, number>();
  let host: Host = wrap ? wrap(backend.host) : backend.host;
  if (counted) {
    const wrapped: Record<string, unknown> = {};
    const src = host as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const name of hostImportNames().map(camel)) {
      const fn = src[name];
      if (typeof fn !== 'function') throw new Error(`backend.host lacks ${name}`);
      counts.set(name, 0);
      wrapped[name] = (...a: unknown[]) => {
        counts.set(name, counts.get(name)! + 1);
        return fn.apply(src, a);
      };
    }
    host = wrapped as unknown as Host;
  }
  const root = instantiate((p) => coreModule('probe', p), { 'zergling:reactor/host': host });
  return {
    backend,
    probe: root.probeApi,
    counts,
    totalCalls: () => [...counts.values()].reduce((a, b) => a + b, 0),
  };
}

/** Open fds of this process. */
/** Descriptors of the kinds the helper can leak (sockets, rings, eventfds): test/fds.ts. */
export { procFds as fdCount } from '../fds.ts';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Reaps and consumes CQEs until `done(all)` holds, letting the JS event loop
 * run in between (Node's clients live there). Throws after `timeoutMs`.
 */
export async function collect(p: Probe, ring: number, done: (all: SeenCqe[]) => boolean, timeoutMs = 5000): Promise<SeenCqe[]> {
  const all: SeenCqe[] = [];
  const end = Date.now() + timeoutMs;
  for (;;) {
    // GETEVENTS with a zero timeout: runs deferred task work, never blocks.
    p.enter(ring, 0, 0, ENTER_GETEVENTS, 0n);
    const got = p.reap(ring, 256);
    if (got.length > 0) {
      const adv = p.cqAdvance(ring, got.length);
      if (adv !== 0) throw new Error(`cq-advance(${got.length}) = ${adv}`);
      all.push(...got);
    }
    if (done(all)) return all;
    if (Date.now() > end) throw new Error(`timed out waiting for CQEs; got ${JSON.stringify(all, big)}`);
    await sleep(got.length > 0 ? 0 : 2);
  }
}

/** JSON.stringify replacer for bigint fields. */
export function big(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `0x${v.toString(16)}` : v;
}

/** A loopback client that records what it receives. */
export interface Client {
  sock: net.Socket;
  received: () => Buffer;
  ended: Promise<void>;
}

export function connect(port: number, host: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect({ port, host });
    let endResolve!: () => void;
    const ended = new Promise<void>((r) => (endResolve = r));
    sock.on('data', (b: Buffer) => chunks.push(b));
    sock.on('end', () => endResolve());
    sock.on('close', () => endResolve());
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.off('error', reject);
      sock.on('error', () => endResolve()); // resets after the guest closes are expected
      resolve({ sock, received: () => Buffer.concat(chunks), ended });
    });
  });
}

/** Waits until `cond()` or throws after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(2);
  }
}

/** IPv4 octets as the WIT packs them (127.0.0.1 = 0x7f000001). */
export const LOOPBACK4 = 0x7f000001;

/**
 * A listener made from Wasm: socket, setsockopt, inet-pton, bind/bind6,
 * listen, getsockname. Returns the fd and the kernel-chosen port.
 */
export function listenFromWasm(p: Probe, family: 4 | 6): { fd: number; port: number } {
  const af = family === 4 ? AF_INET : AF_INET6;
  const fd = p.socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error(`socket = ${fd}`);
  const check = (what: string, r: number) => {
    if (r !== 0) throw new Error(`${what} = ${r}`);
  };
  check('setsockopt(SO_REUSEADDR)', p.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1));
  if (family === 4) {
    const a = p.inetPton(AF_INET, '127.0.0.1');
    if (a.ret !== 1) throw new Error(`inet-pton = ${a.ret}`);
    check('bind', p.bind(fd, 0, Number(a.lo)));
  } else {
    check('setsockopt(IPV6_V6ONLY)', p.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1));
    const a = p.inetPton(AF_INET6, '::1');
    if (a.ret !== 1) throw new Error(`inet-pton = ${a.ret}`);
    check('bind6', p.bind6(fd, 0, 0, a.hi, a.lo, 0));
  }
  check('listen', p.listen(fd, 128));
  const name = p.getsockname(fd);
  if (name.ret !== 0 || name.port === 0) throw new Error(`getsockname = ${JSON.stringify(name, big)}`);
  return { fd, port: name.port };
}
