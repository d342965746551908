// Shared helpers for the API tests: loopback clients, and the leak check that
// runs after every native test (fds, buffers, connections: counted, not assumed).
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { listen as realListen, type Connection, type ListenOptions, type Server } from '../../src/index.ts';

const open = new Set<Server>();

/**
 * `listen()` that remembers the server, so that `closeLeftovers` (run after
 * each test) can close what a failed test left open: a failing test must not
 * hang the file or leak into the next test's fd baseline.
 */
export async function listen(options: ListenOptions<Connection> = {}): Promise<Server> {
  const s = await realListen(options);
  open.add(s);
  return s;
}

export async function closeLeftovers(): Promise<void> {
  const left = [...open]; // close() is idempotent: closing a closed server is a no-op
  open.clear();
  await Promise.all(left.map((s) => s.close({ deadlineMs: 200 }).catch(() => {})));
}

/**
 * Descriptors of this process of the kinds a server can leak: sockets and
 * anonymous inodes (io_uring rings, eventfds). Pipes and directories are left
 * out: tsx opens its cache directory and starts its esbuild service (pipes)
 * lazily, the first time a worker thread compiles with a cold cache.
 */
export function procFds(): number {
  const skip = runtimeUnixSockets();
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (skip !== undefined && skip.has(target)) continue;
      if (target.startsWith('socket:') || target.startsWith('anon_inode:')) n++;
    } catch {
      // closed between readdir and readlink (e.g. the readdir's own fd)
    }
  }
  return n;
}

/**
 * Under Deno, AF_UNIX sockets are left out: Deno's runtime opens a Unix
 * socketpair lazily in the middle of a test and keeps it (seen in
 * /proc/net/unix during a loopback echo), which would read as a leak. The
 * reactor opens only TCP sockets, rings and eventfds, all still counted.
 */
function runtimeUnixSockets(): Set<string> | undefined {
  if (!('Deno' in globalThis)) return undefined;
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    const inode = line.trim().split(/\s+/)[6];
    if (inode !== undefined && inode !== '0') inodes.add(`socket:[${inode}]`);
  }
  return inodes;
}

/**
 * The argv that runs a TypeScript entry point in a child of this same
 * runtime: Node needs tsx's loader, Bun and Deno run .ts themselves (Deno's
 * node-flag translation would put a wrapper process between the test and
 * the child, so signals would not reach the child's handlers).
 */
export function runtimeArgs(file: string): string[] {
  if ('Deno' in globalThis) return ['run', '-A', file];
  if (process.versions.bun !== undefined) return [file];
  return ['--import', 'tsx', file];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every 5 ms until true or `ms` passed. */
export async function until(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Rejects after `ms` with a message naming `what` (keeps a hung test bounded). */
export function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => { t = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms); }),
  ]);
}

export function connect(port: number, host = '127.0.0.1', allowHalfOpen = false): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host, noDelay: true, allowHalfOpen });
    s.once('connect', () => { s.off('error', reject); resolve(s); });
    s.once('error', reject);
  });
}

/** Resolves once the socket is fully closed (its fd is gone). */
export function closedSocket(s: net.Socket): Promise<void> {
  if (s.closed) return Promise.resolve();
  return new Promise((r) => s.once('close', () => r()));
}

/** Collects `n` bytes from a socket. */
export function readBytes(s: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    const onData = (d: Buffer): void => {
      parts.push(d);
      got += d.length;
      if (got >= n) { cleanup(); resolve(Buffer.concat(parts)); }
    };
    const onEnd = (): void => { cleanup(); reject(new Error(`EOF after ${got} of ${n} bytes`)); };
    const cleanup = (): void => { s.off('data', onData); s.off('end', onEnd); s.off('error', reject); };
    s.on('data', onData);
    s.once('end', onEnd);
    s.once('error', reject);
  });
}

/** Sends `msg` and waits for it to come back. */
export async function roundTrip(s: net.Socket, msg: Buffer): Promise<Buffer> {
  const p = readBytes(s, msg.length);
  s.write(msg);
  return p;
}

/**
 * After `server.close()`: the reactor owns no fd, every receive buffer is
 * back (or on its way) to the kernel, nothing is held by the app or pinned,
 * no connection is left, and this process has the fds it had before.
 */
export async function assertNoLeaks(server: Server, fdBaseline: number): Promise<void> {
  const st = server.stats();
  assert.is(st.listening, false, 'listener closed');
  assert.is(st.connections, 0, 'no JS connection left');
  assert.is(st.reactorConnections, 0, 'no connection left in the core');
  assert.is(st.heldChunks, 0, 'no chunk held by the app');
  assert.is(st.buffers.app, 0, 'no buffer with the app');
  assert.is(st.buffers.kernel + st.buffers.returning, st.buffers.total, 'every buffer back');
  assert.is(st.writeSlab.pendingRanges, 0, 'no write range pending');
  assert.is(st.pinnedBuffers, 0, 'no buffer pinned');
  assert.is(st.fds, 0, 'backend owns no fd');
  assert.is(server.backend.ownedFds(), 0, 'backend.ownedFds() is 0');
  assert.is(st.closed, st.accepted, 'every accepted connection closed (rejected ones are not counted as accepted)');
  await until(() => procFds() <= fdBaseline, 2000, `/proc/self/fd back to ${fdBaseline} (now ${procFds()})`);
  assert.is(procFds(), fdBaseline, '/proc/self/fd back to baseline');
}

/** Deterministic pseudo-random bytes (xorshift32 from `seed`): a reordered or dropped byte shows. */
export function pattern(len: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(len);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < len; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}
