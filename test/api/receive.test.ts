// Connection.receive(): push-style reading on the simulated kernel, with
// seeded faults. Every byte must come back in order, the handler's promise
// must pause delivery (and keep its bytes valid), its errors must end the
// connection, and nothing may leak. A failing seed replays exactly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSimBackend, type SimBackend, type SimClient } from '../../bridge/sim/index.ts';
import { listen, type Connection, type Server } from '../../src/index.ts';
import { seededBytes } from './bytes.ts';

const bytes = seededBytes;

interface Peer { client: SimClient; sent: Uint8Array; got: Buffer[] }

/** A client that sends `sent`, half-closes and collects what comes back. */
function sender(sim: SimBackend, port: number, sent: Uint8Array, seed: number): Peer {
  const p: Peer = { client: sim.client({ readChunk: [1, 4096], segMax: 1 + (seed % 3000) }), sent, got: [] };
  p.client.onData = (b) => { p.got.push(Buffer.from(b)); };
  p.client.onConnect = () => { p.client.write(sent); p.client.shutdownWrite(); };
  p.client.connect(port);
  return p;
}

async function closeAndCheck(sim: SimBackend, server: Server): Promise<void> {
  await sim.runUntil(server.close({ deadlineMs: 1000 }));
  sim.run();
  const st = server.stats();
  assert.is(st.connections, 0, 'no connection left');
  assert.is(st.buffers.app, 0, 'no buffer with the app');
  assert.is(st.buffers.kernel + st.buffers.returning, st.buffers.total, 'every buffer back');
  assert.is(sim.ownedFds(), 0, 'no fd left in the simulated kernel');
  assert.equal(sim.world.violations.map((v) => v.message), [], 'no model violation');
}

const FAULTS = { shortSend: 0.3, partialRead: 0.3, segmentSplit: 0.3, asyncIssue: 0.3, completionDelay: 0.2 };

test('echo with receive(): 20 seeds x 5 clients under faults, every byte back in order, nothing leaks', async () => {
  let paused = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const sim = createSimBackend({ seed, faults: FAULTS });
    const server = await listen({
      backend: sim, port: 0,
      reactor: { recvBufferSize: 512, bufferRingEntries: 16, incremental: seed % 2 === 0 },
      // An echo of receive-slab views is never over the high-water mark (they
      // are not charged), so every third delivery waits for flush() anyway.
      onConnection: (conn) => {
        let n = 0;
        return conn.receive((b) => {
          if (conn.write(b) && n++ % 3 !== 0) return undefined;
          paused++;
          return conn.flush();
        });
      },
    });
    const port = server.address().port;
    const peers = Array.from({ length: 5 }, (_, i) => sender(sim, port, bytes(seed * 10 + i, 1 + ((seed * 7919 + i * 104729) % 30000)), seed + i));
    await sim.runUntil(() => peers.every((p) => p.client.done));
    for (const [i, p] of peers.entries()) {
      assert.is(p.client.error, 0, `seed ${seed} client ${i}: no error`);
      assert.ok(p.client.eof, `seed ${seed} client ${i}: EOF once receive() resolved`);
      assert.ok(Buffer.concat(p.got).equals(Buffer.from(p.sent)), `seed ${seed} client ${i}: echo exact`);
    }
    for (const p of peers) p.client.close();
    await closeAndCheck(sim, server);
  }
  assert.ok(paused > 0, `some deliveries paused on backpressure (${paused})`);
});

test('a handler that returns a promise pauses delivery; its bytes stay valid until the promise settles', async () => {
  const sim = createSimBackend({ seed: 7, faults: { segmentSplit: 0.5 } });
  const sent = bytes(5, 50_000);
  const got: Buffer[] = [];
  let inFlight = 0, maxInFlight = 0, ended = false;
  const server = await listen({
    backend: sim, port: 0, reactor: { recvBufferSize: 1024, bufferRingEntries: 16 },
    onConnection: (conn) => conn.receive(async (b) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const sum = b.reduce((a, x) => a + x, 0);
      for (let i = 0; i < 3; i++) await null; // a few microtask hops: the engine may tick meanwhile
      assert.is(b.reduce((a, x) => a + x, 0), sum, 'bytes unchanged while the promise is pending');
      got.push(Buffer.from(b));
      inFlight--;
    }).then(() => { ended = true; }),
  });
  const p = sender(sim, server.address().port, sent, 11);
  await sim.runUntil(() => ended);
  assert.ok(Buffer.concat(got).equals(Buffer.from(sent)), 'every chunk, in order');
  assert.ok(got.length > 1, `more than one delivery (${got.length})`);
  assert.is(maxInFlight, 1, 'one delivery at a time');
  p.client.close();
  await closeAndCheck(sim, server);
});

test('a throwing handler rejects receive(), the connection is destroyed, the error is reported once', async () => {
  for (const kind of ['throw', 'reject'] as const) {
    const sim = createSimBackend({ seed: 3 });
    const reported: Error[] = [];
    let calls = 0;
    const boom = new Error(`handler ${kind}s`);
    const server = await listen({
      backend: sim, port: 0,
      onError: (err) => { reported.push(err); },
      onConnection: (conn) => conn.receive((): void | Promise<void> => {
        calls++;
        if (kind === 'throw') throw boom;
        return Promise.reject(boom);
      }),
    });
    const c = sim.client({ segMax: 10 });
    c.onConnect = () => { c.write(bytes(1, 100)); };
    c.connect(server.address().port);
    await sim.runUntil(() => c.done);
    assert.is(calls, 1, `${kind}: the handler ran once, nothing after its failure`);
    assert.equal(reported, [boom], `${kind}: reported to onError`);
    c.close();
    await closeAndCheck(sim, server);
  }
});

test('one way of reading: receive() with read(), for await or a second receive() is ERR_READ_PENDING; a non-function is ERR_INVALID_ARG_TYPE', async () => {
  const sim = createSimBackend({ seed: 1 });
  const seen: string[] = [];
  let conn: Connection | undefined;
  const server = await listen({ backend: sim, port: 0, onConnection: (c) => { conn = c; } });
  const c = sim.client();
  c.connect(server.address().port);
  await sim.runUntil(() => conn !== undefined);
  const code = (f: () => unknown): string => {
    try { f(); return 'no error'; } catch (err) { return (err as { code: string }).code; }
  };
  seen.push(code(() => conn!.receive(42 as unknown as () => void)));
  const pending = conn!.read();
  seen.push(code(() => conn!.receive(() => {})));
  c.write(bytes(2, 10));
  const chunk = await sim.runUntil(pending);
  chunk!.release();
  const done = conn!.receive(() => {});
  seen.push(code(() => conn!.receive(() => {})));
  seen.push(await conn!.read().then(() => 'no error', (err: { code: string }) => err.code));
  seen.push(await conn![Symbol.asyncIterator]().next().then(() => 'no error', (err: { code: string }) => err.code));
  assert.equal(seen, ['ERR_INVALID_ARG_TYPE', 'ERR_READ_PENDING', 'ERR_READ_PENDING', 'ERR_READ_PENDING', 'ERR_READ_PENDING']);
  c.shutdownWrite();
  await sim.runUntil(done);
  c.close();
  await closeAndCheck(sim, server);
});

test('chunks that arrived before receive() are delivered first, in order', async () => {
  const sim = createSimBackend({ seed: 9, faults: { segmentSplit: 0.5 } });
  const sent = bytes(9, 20_000);
  const got: Buffer[] = [];
  let conn: Connection | undefined;
  const server = await listen({ backend: sim, port: 0, reactor: { recvBufferSize: 1024, bufferRingEntries: 64 }, onConnection: (c) => { conn = c; } });
  const p = sender(sim, server.address().port, sent, 5);
  await sim.runUntil(() => conn !== undefined && conn.readableEnded === false && server.stats().buffers.app > 3);
  const done = conn!.receive((b) => { got.push(Buffer.from(b)); });
  await sim.runUntil(done);
  assert.ok(Buffer.concat(got).equals(Buffer.from(sent)), 'queued chunks first, then the rest, in order');
  assert.is(server.stats().buffers.app, 0, 'every delivered buffer released');
  void conn!.close();
  p.client.close();
  await closeAndCheck(sim, server);
});

test('server.close() while a handler promise is pending: close completes, nothing leaks, receive() settles after the promise', async () => {
  const sim = createSimBackend({ seed: 4 });
  let release: (() => void) | undefined;
  let settled = false;
  const server = await listen({
    backend: sim, port: 0,
    onConnection: (conn) => {
      const done = conn.receive(() => new Promise<void>((r) => { release = r; }));
      void done.then(() => { settled = true; });
      return done;
    },
  });
  const c = sim.client();
  c.onConnect = () => { c.write(bytes(3, 5000)); };
  c.connect(server.address().port);
  await sim.runUntil(() => release !== undefined);
  const closing = server.close({ deadlineMs: 50 });
  await sim.runUntil(() => c.done);
  assert.not.ok(settled, 'not settled while the handler holds its bytes');
  release!();
  await sim.runUntil(closing);
  await sim.runUntil(() => settled);
  assert.ok(settled, 'receive() settled once the handler promise did');
  c.close();
  sim.run();
  const st = server.stats();
  assert.is(st.connections, 0, 'no connection left');
  assert.is(sim.ownedFds(), 0, 'no fd left in the simulated kernel');
});


test('a receive buffer that comes back with the same offset and length is handed as the same view; another offset gets its own, and every view reads what arrived', async () => {
  for (const incremental of [false, true]) {
    const sim = createSimBackend({ seed: 12 });
    const views = new Set<Uint8Array>();
    let deliveries = 0, wrong = 0, expect = 0;
    const server = await listen({
      backend: sim, port: 0, reactor: { recvBufferSize: 256, bufferRingEntries: 8, incremental },
      onConnection: (conn) => conn.receive((b) => {
        deliveries++;
        views.add(b);
        for (const x of b) if (x !== (expect++ & 0xff)) wrong++;
        conn.write(b);
      }),
    });
    const c = sim.client();
    let echoed = 0, sent = 0;
    const msg = (i: number): Uint8Array => Uint8Array.from({ length: 64 }, (_, j) => (i * 64 + j) & 0xff);
    c.onData = (b) => { echoed += b.length; if (echoed === sent * 64 && sent < 200) c.write(msg(sent++)); };
    c.onConnect = () => { c.write(msg(sent++)); };
    c.connect(server.address().port);
    await sim.runUntil(() => echoed === 200 * 64);
    assert.is(wrong, 0, `incremental ${incremental}: every byte as sent`);
    assert.is(deliveries, 200, `incremental ${incremental}: one delivery per message`);
    // Full buffers (not incremental): one view per buffer at most. Incremental:
    // a buffer fills at four offsets, and each offset's view is made again.
    if (!incremental) assert.ok(views.size <= 8, `one view per buffer (${views.size} for ${deliveries} deliveries)`);
    else assert.ok(views.size > 8, `offsets that differ get views of their own (${views.size})`);
    c.close();
    await closeAndCheck(sim, server);
  }
});

test.run();
