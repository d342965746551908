// Shared helpers for the API tests: loopback clients, and the leak check that
// runs after every native test (fds, buffers, connections: counted, not assumed).
import { seededBytes } from './bytes.ts';
import * as assert from 'uvu/assert';
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

import { procFds } from '../fds.ts';

export { procFds };

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
  const b = seededBytes(seed, len);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
