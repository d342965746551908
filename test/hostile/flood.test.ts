// Hostile clients on real io_uring. Non-readers that write as fast as they can
// must not freeze the server: each is paused by its receive budget (the
// kernel's TCP window then pushes back on that peer alone), while 20 echo
// clients that arrive later are served. Count-based checks, generous bounds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { listen } from '../api/helpers.ts';
import { listen as listenCluster } from '../../src/cluster/index.ts';
import { until } from '../api/helpers.ts';

const CLIENTS = fileURLToPath(new URL('./clients.cjs', import.meta.url));
const HANDLER = new URL('../cluster/handlers/echo.ts', import.meta.url).href;
const MiB = 1 << 20;

interface FloodResult {
  nonReaders: { connected: number; closed: number; errors: number; written: number };
  echo: { trips: number; maxWaitMs: number; error: string | null }[];
}

export function runClients<T>(cfg: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLIENTS, JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('exit', (code) => {
      try { resolve(JSON.parse(out.trim().split('\n').pop()!) as T); }
      catch { reject(new Error(`clients exited ${code}: ${out}`)); }
    });
  });
}

/** The README's echo server. */
async function echoServer() {
  return listen({
    port: 0,
    async onConnection(conn) { for await (const b of conn) if (!conn.write(b)) await conn.flush(); },
  });
}

function check(r: FloodResult, nonReaders: number, label: string): void {
  assert.is(r.nonReaders.connected, nonReaders, `${label}: every non-reader connected`);
  assert.is(r.nonReaders.closed, 0, `${label}: non-readers are paused, not closed`);
  assert.is(r.echo.length, 20);
  for (const [i, e] of r.echo.entries()) {
    assert.ok(e.trips >= 20, `${label}: echo client ${i} made ${e.trips} round trips (${e.error ?? 'ok'})`);
    assert.ok(e.maxWaitMs < 1000, `${label}: echo client ${i} waited ${e.maxWaitMs} ms for a reply`);
  }
}

const flood = (port: number, nonReaders: number) => ({
  mode: 'flood', port, nonReaders, echo: 20, rounds: 200, msgSize: 1024, startDelayMs: 1500, maxMs: 6000,
});

for (const nonReaders of [4, 64]) {
  test(`1 reactor: ${nonReaders} non-reading writers do not starve 20 echo clients; memory stays bounded`, async () => {
    const server = await echoServer();
    try {
      const rss0 = process.memoryUsage().rss;
      const r = await runClients<FloodResult>(flood(server.address().port, nonReaders));
      const grew = process.memoryUsage().rss - rss0;
      if (process.env.HOSTILE_DEBUG && r.echo.some((e) => e.trips < 20)) {
        const s = server.stats();
        console.log(JSON.stringify({ b: s.buffers, bu: s.budget, enobufs: s.enobufs, conns: s.connections, held: s.heldChunks }));
        console.log(JSON.stringify(r.echo.map((e) => e.trips)));
      }
      check(r, nonReaders, '1 reactor');
      const st = server.stats();
      assert.ok(st.budget.pauses >= 1, `non-readers were paused (${st.budget.pauses} pauses)`);
      assert.ok(grew < 64 * MiB, `server RSS grew by ${(grew / MiB).toFixed(1)} MiB`);
      console.log(`1 reactor, ${nonReaders} non-readers: min trips ${Math.min(...r.echo.map((e) => e.trips))}, ` +
        `max wait ${Math.max(...r.echo.map((e) => e.maxWaitMs))} ms, pauses ${st.budget.pauses}, ` +
        `RSS +${(grew / MiB).toFixed(1)} MiB, non-readers wrote ${(r.nonReaders.written / MiB).toFixed(0)} MiB`);
    } finally {
      await server.close({ deadlineMs: 200 });
    }
    const st = server.stats();
    assert.is(st.buffers.kernel + st.buffers.returning, st.buffers.total, 'every buffer is back');
  });

  test(`2 reactors: ${nonReaders} non-reading writers do not starve 20 echo clients`, async () => {
    const server = await listenCluster({ port: 0, reactors: 2, handler: HANDLER });
    try {
      const rss0 = process.memoryUsage().rss;
      const r = await runClients<FloodResult>(flood(server.address().port, nonReaders));
      const grew = process.memoryUsage().rss - rss0;
      if (process.env.HOSTILE_DEBUG) {
        const s = await server.stats();
        console.log(JSON.stringify(s.perReactor.map((p) => ({ c: p.connections, b: p.buffers, bu: p.budget, enobufs: p.enobufs }))));
        console.log(JSON.stringify(r.echo));
      }
      check(r, nonReaders, '2 reactors');
      const st = await server.stats();
      assert.ok(st.budget.pauses >= 1, `non-readers were paused (${st.budget.pauses} pauses)`);
      assert.ok(grew < 64 * MiB, `process RSS grew by ${(grew / MiB).toFixed(1)} MiB`);
      console.log(`2 reactors, ${nonReaders} non-readers: min trips ${Math.min(...r.echo.map((e) => e.trips))}, ` +
        `max wait ${Math.max(...r.echo.map((e) => e.maxWaitMs))} ms, pauses ${st.budget.pauses}`);
    } finally {
      await server.close({ deadlineMs: 200 });
    }
  });
}

test('a slow reader (~4 MiB/s) gets 32 MiB echoed exactly', async () => {
  const server = await echoServer();
  try {
    const r = await runClients<{ sent: number; got: number; bad: number; ms: number; error?: boolean }>({
      mode: 'slow', port: server.address().port, bytes: 32 * MiB, rateBps: 4 * MiB, maxMs: 40000,
    });
    assert.is(r.error, undefined);
    assert.is(r.sent, 32 * MiB);
    assert.is(r.got, 32 * MiB, `echoed ${r.got} of ${32 * MiB} bytes`);
    assert.is(r.bad, -1, `first wrong byte at ${r.bad}`);
    console.log(`slow reader: 32 MiB in ${r.ms} ms, pauses ${server.stats().budget.pauses}`);
  } finally {
    await server.close({ deadlineMs: 200 });
  }
  await until(() => server.stats().connections === 0, 2000);
});

test.run();
