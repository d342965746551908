// The public API on the simulated kernel (bridge/sim): the same listen(),
// Connection and adapters, with seeded faults (short sends, partial reads,
// split segments, late completions) and simulated TCP clients. Every seed is
// checked byte for byte and for leaks (fds, buffers, connections, model
// violations). Runs anywhere; a failing seed replays exactly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import { createSimBackend, type SimBackend, type SimClient, type SimFaults } from '../../bridge/sim/index.ts';
import { listen, type Connection, type ListenOptions, type Server } from '../../src/index.ts';
import { seededBytes } from './bytes.ts';

/** sim.runUntil, as a boolean for the assertions below (a stall or timeout rejects with its code). */
async function drive(sim: SimBackend, done: () => boolean): Promise<boolean> {
  await sim.runUntil(done);
  return done();
}

const data = seededBytes;

interface Peer {
  client: SimClient;
  sent: Uint8Array;
  got: Uint8Array[];
  gotBytes: number;
}

function peer(sim: SimBackend, port: number, sent: Uint8Array, opts: Parameters<SimBackend['client']>[0] = {}): Peer {
  const p: Peer = { client: sim.client(opts), sent, got: [], gotBytes: 0 };
  p.client.onData = (b) => { p.got.push(b); p.gotBytes += b.length; };
  p.client.connect(port);
  return p;
}

function received(p: Peer): Buffer {
  return Buffer.concat(p.got.map((b) => Buffer.from(b)));
}

async function closeAndCheck(sim: SimBackend, server: Server): Promise<ReturnType<Server['stats']>> {
  let closed = false;
  void server.close({ deadlineMs: 1000 }).then(() => { closed = true; });
  assert.ok(await drive(sim, () => closed), 'close() completed');
  sim.run();
  const st = server.stats();
  assert.is(st.connections, 0, 'no connection left');
  assert.is(st.reactorConnections, 0, 'core: no connection left');
  assert.is(st.buffers.app, 0, 'no buffer with the app');
  assert.is(st.buffers.kernel + st.buffers.returning, st.buffers.total, 'every buffer back');
  assert.is(st.pinnedBuffers, 0, 'nothing pinned');
  assert.is(st.writeSlab.pendingRanges, 0, 'no write range pending');
  assert.is(sim.ownedFds(), 0, 'no fd left in the simulated kernel');
  assert.equal(sim.world.violations.map((v) => v.message), [], 'no model violation');
  return st;
}

const FAULTS: Partial<SimFaults> = {
  shortSend: 0.3, partialRead: 0.3, segmentSplit: 0.3, asyncIssue: 0.3, completionDelay: 0.2, cancelLate: 0.5,
};

async function echoServer(sim: SimBackend, extra: Partial<ListenOptions<Connection>> = {}): Promise<Server> {
  return listen({
    backend: sim,
    port: 0,
    reactor: { recvBufferSize: 512, bufferRingEntries: 16, highWaterMark: 4096, ...extra.reactor },
    async onConnection(conn) {
      for await (const b of conn) if (!conn.write(b)) await conn.flush();
    },
  });
}

test('echo under faults: 25 seeds x 6 clients, every byte back, nothing leaks', async () => {
  let shortSends = 0, enobufs = 0;
  for (let seed = 1; seed <= 25; seed++) {
    const sim = createSimBackend({ seed, faults: FAULTS });
    const server = await echoServer(sim, { reactor: { incremental: seed % 2 === 0 } });
    const port = server.address().port;
    const peers: Peer[] = [];
    for (let i = 0; i < 6; i++) {
      const p = peer(sim, port, data(seed * 100 + i, 1 + ((seed * 7919 + i * 104729) % 20000)),
        { readChunk: [1, 4096], segMax: 1 + ((seed + i) % 3000) });
      p.client.onConnect = () => { p.client.write(p.sent); p.client.shutdownWrite(); };
      peers.push(p);
    }
    const ok = await drive(sim, () => peers.every((p) => p.client.done));
    assert.ok(ok, `seed ${seed}: every client finished`);
    for (const [i, p] of peers.entries()) {
      assert.is(p.client.error, 0, `seed ${seed} client ${i}: no error`);
      assert.ok(p.client.eof, `seed ${seed} client ${i}: EOF after the echo`);
      assert.ok(received(p).equals(Buffer.from(p.sent)), `seed ${seed} client ${i}: echo exact (${p.gotBytes}/${p.sent.length})`);
    }
    for (const p of peers) p.client.close();
    const st = await closeAndCheck(sim, server);
    shortSends += st.shortSends;
    enobufs += st.enobufs;
  }
  // The faults really happened: the API survived them rather than never seeing them.
  assert.ok(shortSends > 0, `short sends seen: ${shortSends}`);
  assert.ok(enobufs > 0, `buffer ring ran dry: ${enobufs}`);
});

test('slow readers: write() backpressure keeps queued bytes bounded; all data arrives in order', async () => {
  for (let seed = 1; seed <= 5; seed++) {
    const sim = createSimBackend({ seed, faults: { shortSend: 0.3 } });
    const hwm = 8192, piece = 3000, total = 300_000;
    let maxQueued = 0;
    const server = await listen({
      backend: sim, port: 0, reactor: { highWaterMark: hwm, writeSlabSize: 64 << 10 },
      async onConnection(conn) {
        for (let off = 0; off < total; off += piece) {
          const ok = conn.write(data(off, Math.min(piece, total - off)));
          maxQueued = Math.max(maxQueued, conn.writableLength);
          if (!ok) await conn.flush();
        }
        await conn.flush();
      },
    });
    const peers = Array.from({ length: 3 }, () => peer(sim, server.address().port, new Uint8Array(0),
      { rcvCap: 4096, readChunk: [100, 2000], readDelay: [10_000, 200_000] }));
    assert.ok(await drive(sim, () => peers.every((p) => p.client.done)), `seed ${seed}: done`);
    const want = Buffer.concat(Array.from({ length: Math.ceil(total / piece) },
      (_, i) => Buffer.from(data(i * piece, Math.min(piece, total - i * piece)))));
    for (const p of peers) assert.ok(received(p).equals(want), `seed ${seed}: ${p.gotBytes} of ${total} bytes, in order`);
    assert.ok(maxQueued <= hwm + piece, `seed ${seed}: queued ${maxQueued} <= hwm + one write`);
    for (const p of peers) p.client.close();
    await closeAndCheck(sim, server);
  }
});

test('write() copies a small write that waits in JS: the caller may reuse its buffer at once', async () => {
  const sim = createSimBackend({ seed: 3 });
  const first = data(1, 20_000), small = data(2, 1000), large = data(3, 70_000);
  const want = Buffer.concat([first, small, small, large]);
  let queued = -1;
  const server = await listen({
    backend: sim, port: 0, reactor: { highWaterMark: 4096 },
    async onConnection(conn) {
      assert.is(conn.write(first), false, 'above the high-water mark');
      const buf = Uint8Array.from(small);
      conn.write(buf); // waits in JS behind `first`
      queued = conn.writableLength;
      buf.fill(0x58); // reused at once: what was written must not change
      buf.set(small);
      conn.write(buf);
      buf.fill(0x59);
      conn.write(large); // >= 64 KiB: lent, not copied (not modified here)
      await conn.flush();
      conn.end();
    },
  });
  const p = peer(sim, server.address().port, new Uint8Array(0), { rcvCap: 2048, readChunk: [100, 500], readDelay: [10_000, 50_000] });
  assert.ok(await drive(sim, () => p.client.done), 'the server ended');
  assert.ok(queued > first.length, `the small write waited in JS (writableLength ${queued})`);
  assert.ok(received(p).equals(want), `the peer got the bytes as they were at write() (${p.gotBytes} of ${want.length})`);
  p.client.close();
  await closeAndCheck(sim, server);
});

test('node:http over conn.toDuplex() on the simulated kernel', async () => {
  const sim = createSimBackend({ seed: 7, faults: { segmentSplit: 0.5, partialRead: 0.5 } });
  const httpServer = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`hello ${req.url}`);
  });
  const server = await listen({ backend: sim, port: 0, onConnection: (c) => { httpServer.emit('connection', c.toDuplex()); } });
  const p = peer(sim, server.address().port, new TextEncoder().encode(
    'GET /one HTTP/1.1\r\nHost: sim\r\n\r\nGET /two HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n'));
  p.client.onConnect = () => p.client.write(p.sent);
  assert.ok(await drive(sim, () => p.client.done), 'the server closed after "Connection: close"');
  const text = received(p).toString();
  const bodies = [...text.matchAll(/\r\n\r\n(hello \/[a-z]{3})/g)].map((m) => m[1]);
  assert.equal(bodies, ['hello /one', 'hello /two'], text);
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  p.client.close();
  await closeAndCheck(sim, server);
  httpServer.close();
});

// Both ring modes: with the default (no DEFER_TASKRUN), seed 6 once stalled
// here. A connection paused by its receive budget became resumable when its
// last buffer came home with a send CQE, but the core did not count that
// resume as pending work, so the reactor slept with no recv armed and never
// saw the reset.
test('client resets mid-stream: the connection closes with ECONNRESET and frees everything', async () => {
  for (let run = 0; run < 20; run++) {
    const seed = (run % 10) + 1, deferTaskrun = run >= 10;
    const sim = createSimBackend({ seed, faults: FAULTS });
    const errors: (string | null)[] = [];
    const server = await listen({
      backend: sim, port: 0, reactor: { recvBufferSize: 256, bufferRingEntries: 8, deferTaskrun },
      async onConnection(conn) {
        for await (const b of conn) conn.write(b);
        await conn.closed;
        errors.push(conn.error?.code ?? null);
      },
    });
    const p = peer(sim, server.address().port, data(seed, 50_000), { readChunk: [1, 100], readDelay: [50_000, 50_000] });
    p.client.onConnect = () => p.client.write(p.sent);
    await drive(sim, () => p.gotBytes > 1000);
    p.client.reset();
    assert.ok(await drive(sim, () => errors.length === 1), `seed ${seed}, deferTaskrun ${deferTaskrun}: the server noticed`);
    assert.ok(errors[0] === 'ECONNRESET' || errors[0] === 'EPIPE', `seed ${seed}: closed with ${errors[0]}`);
    await closeAndCheck(sim, server);
  }
});

test.run();
