// Helpers for the cluster tests: many concurrent verified echo clients, and
// the leak check after close() (process-wide fds, every reactor's buffers).
import * as assert from 'uvu/assert';
import net from 'node:net';
import type { ClusterServer, ClusterStats } from '../../src/cluster/index.ts';
import { pattern, procFds, until } from '../api/helpers.ts';
import { fdReport } from '../fds.ts';

export { fdReport, pattern, procFds, until };

const live = new Set<ClusterServer>();

/** Registers a server for closeTracked(): a test that fails half-way must not leave threads and fds to the next. */
export function tracked<S extends ClusterServer>(server: S): S {
  live.add(server);
  return server;
}

/** For test.after.each: closes every tracked server (close() is idempotent) so one failure does not cascade. */
export async function closeTracked(): Promise<void> {
  for (const s of live) await s.close({ deadlineMs: 500 }).catch(() => undefined);
  live.clear();
}

/**
 * One client: connects, sends `len` pattern bytes (seeded by `seed`) in three
 * writes, reads them back, checks every byte, ends. Resolves to the number of
 * bytes verified; rejects on a mismatch, an early EOF, or after `ms`.
 */
export function echoClient(port: number, len: number, seed: number, ms = 20000): Promise<number> {
  const msg = pattern(len, seed);
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
    const parts: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`client ${seed}: ${got}/${len} bytes after ${ms} ms`)); }, ms);
    const fail = (err: Error): void => { clearTimeout(timer); s.destroy(); reject(err); };
    s.on('connect', () => {
      const a = Math.floor(len / 3), b = Math.floor((2 * len) / 3);
      s.write(msg.subarray(0, a));
      s.write(msg.subarray(a, b));
      s.write(msg.subarray(b));
    });
    s.on('data', (d: Buffer) => {
      parts.push(d);
      got += d.length;
      if (got > len) fail(new Error(`client ${seed}: ${got} bytes back, sent ${len}`));
      else if (got === len) {
        const back = Buffer.concat(parts);
        if (!back.equals(msg)) {
          let i = 0;
          while (back[i] === msg[i]) i++;
          fail(new Error(`client ${seed}: byte ${i} differs`));
          return;
        }
        s.end();
      }
    });
    s.on('error', fail);
    s.on('close', () => {
      clearTimeout(timer);
      if (got === len) resolve(got);
      else reject(new Error(`client ${seed}: closed after ${got}/${len} bytes`));
    });
  });
}

/** `n` clients at once; resolves when every one has verified its bytes. */
export async function echoClients(port: number, n: number, len: number, seed0 = 1): Promise<number> {
  const all = await Promise.all(Array.from({ length: n }, (_, i) => echoClient(port, len, seed0 + i)));
  return all.reduce((a, b) => a + b, 0);
}

/**
 * Stats once `pred` holds, asking again every 20 ms for up to `ms`; the last
 * stats otherwise. A reactor's counters lag its fds by a turn: the stats
 * message can be answered before the reactor has run the close completions
 * already in its ring (seen under load: 20 connections still counted ~50 ms
 * after their clients saw the close).
 */
export async function statsWhen(server: ClusterServer, pred: (st: ClusterStats) => boolean, ms = 5000): Promise<ClusterStats> {
  const end = Date.now() + ms;
  let st = await server.stats();
  while (!pred(st) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 20));
    st = await server.stats();
  }
  return st;
}

/** Every reactor got its share: within ±tol of total/reactors. */
export function assertSpread(st: ClusterStats, total: number, tol = 0.2): void {
  const even = total / st.reactors;
  const counts = st.perReactor.map((r) => r.accepted);
  assert.is(counts.reduce((a, b) => a + b, 0), total, `every connection served once (${counts.join(', ')})`);
  for (const [i, c] of counts.entries()) {
    assert.ok(Math.abs(c - even) <= tol * even, `reactor ${i}: ${c} connections, even share ${even} ± ${tol * 100}% (${counts.join(', ')})`);
  }
}

/**
 * After close(): no fd owned anywhere in the process, /proc/self/fd at its
 * baseline, and every reactor's final counters balanced (no connection, no
 * held chunk, every receive buffer home, no pending write, no pin).
 */
export async function assertClusterClean(server: ClusterServer, fdBaseline: number): Promise<ClusterStats> {
  const st = await server.stats();
  assert.is(st.listening, false, 'not listening');
  if (st.fds !== 0) assert.is(st.fds, 0, `zergling owns no fd in the process; reactors ${server.reactorStates().join(', ')}:\n${await fdReport()}`);
  for (const r of st.perReactor) {
    const at = `reactor ${r.index}`;
    assert.is(r.state, 'closed', `${at} closed`);
    assert.is(r.connections, 0, `${at}: no JS connection left`);
    assert.is(r.reactorConnections, 0, `${at}: no connection in the core`);
    assert.is(r.heldChunks, 0, `${at}: no chunk held`);
    assert.is(r.buffers.app, 0, `${at}: no buffer with the app`);
    assert.is(r.buffers.kernel + r.buffers.returning, r.buffers.total, `${at}: every buffer back`);
    assert.ok(r.buffers.total > 0, `${at}: final stats were reported`);
    assert.is(r.writeSlab.pendingRanges, 0, `${at}: no write pending`);
    assert.is(r.pinnedBuffers, 0, `${at}: nothing pinned`);
    assert.is(r.accepted, r.closed + r.rejected, `${at}: every connection closed`);
  }
  if (st.acceptor !== null) {
    const handed = st.perReactor.reduce((a, r) => a + r.handedOff, 0);
    assert.is(handed + st.acceptor.rejected, st.acceptor.accepted, 'every accepted fd was routed or closed');
    const taken = st.perReactor.reduce((a, r) => a + r.adopted + r.adoptFailed, 0);
    assert.ok(taken <= handed, 'no fd adopted twice');
  }
  await until(() => procFds() <= fdBaseline, 3000).catch(() => undefined);
  const n = procFds();
  if (n !== fdBaseline) assert.is(n, fdBaseline, `/proc/self/fd back to baseline ${fdBaseline}:\n${await fdReport()}`);
  return st;
}
