// The low-level read cycle (read → chunk.bytes → release), its misuse errors,
// and the write paths: copy into the write slab, pinned large buffers,
// zero-copy write-back of a received chunk, backpressure with bounded memory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Chunk, type Connection, type Server } from '../../src/index.ts';
import {
  closeLeftovers, listen, assertNoLeaks, closedSocket, connect, deadline, pattern, procFds, readBytes, roundTrip, until,
} from './helpers.ts';

async function oneConnection(opts: Parameters<typeof listen>[0] = {}, halfOpen = false): Promise<{
  server: Server; conn: Connection; sock: Awaited<ReturnType<typeof connect>>; fd0: number;
}> {
  const fd0 = procFds();
  const conns: Connection[] = [];
  const server = await listen({ port: 0, ...opts, onConnection: (c) => { conns.push(c); } });
  const sock = await connect(server.address().port, '127.0.0.1', halfOpen);
  await until(() => conns.length === 1, 2000, 'accept');
  return { server, conn: conns[0]!, sock, fd0 };
}

async function finish(server: Server, sock: Awaited<ReturnType<typeof connect>>, fd0: number): Promise<void> {
  sock.destroy();
  await closedSocket(sock);
  await server.close({ deadlineMs: 1000 });
  await assertNoLeaks(server, fd0);
}

test('read() gives zero-copy chunks; release() returns the buffer; misuse throws with a code', async () => {
  const { server, conn, sock, fd0 } = await oneConnection();
  sock.write('first chunk');
  const c = (await deadline(conn.read(), 2000, 'read'))!;
  assert.ok(c !== null);
  const view = c.bytes;
  assert.is(Buffer.from(view).toString(), 'first chunk');
  assert.is(c.length, 11);
  assert.ok(view.buffer.byteLength > view.byteLength, 'a view over the whole receive slab, not a copy');
  assert.is(server.stats().heldChunks, 1);
  assert.ok(server.stats().buffers.app >= 1, 'the core counts the buffer as the app\'s');
  assert.is(c.released, false);
  c.release();
  assert.is(c.released, true);
  assert.is(server.stats().heldChunks, 0);
  try {
    void c.bytes;
    assert.unreachable('bytes after release');
  } catch (err) {
    assert.is((err as { code?: string }).code, 'ERR_CHUNK_RELEASED');
    assert.match((err as Error).message, /released/);
  }
  try {
    c.release();
    assert.unreachable('double release');
  } catch (err) {
    assert.is((err as { code?: string }).code, 'ERR_CHUNK_ALREADY_RELEASED');
  }
  // Writing a view kept from a released chunk is refused: that memory is the kernel's again.
  try {
    conn.write(view);
    assert.unreachable('write of a released view');
  } catch (err) {
    assert.is((err as { code?: string }).code, 'ERR_CHUNK_RELEASED');
  }
  // Only one read at a time.
  const pending = conn.read();
  try {
    await conn.read();
    assert.unreachable('second concurrent read');
  } catch (err) {
    assert.is((err as { code?: string }).code, 'ERR_READ_PENDING');
  }
  sock.write('second');
  const c2 = (await deadline(pending, 2000, 'pending read'))!;
  assert.is(Buffer.from(c2.bytes).toString(), 'second');
  c2.release();
  await finish(server, sock, fd0);
});

test('for await releases each chunk for you; break stops reading and discards later data', async () => {
  const { server, conn, sock, fd0 } = await oneConnection();
  const got: string[] = [];
  const loop = (async () => {
    for await (const b of conn) {
      got.push(Buffer.from(b).toString());
      assert.ok(server.stats().heldChunks <= 1, 'at most the current chunk is held');
      if (got.length === 3) break;
    }
  })();
  for (const m of ['a', 'b', 'c']) {
    sock.write(m);
    await until(() => got.includes(m), 2000, `chunk ${m}`);
  }
  await deadline(loop, 2000, 'loop ends after break');
  sock.write('discarded after the loop');
  await new Promise((r) => setTimeout(r, 50));
  assert.is(server.stats().heldChunks, 0, 'nothing held after break');
  assert.is(await conn.read(), null, 'reading stopped');
  await finish(server, sock, fd0);
});

test('chunks of a closed server are dead', async () => {
  const { server, conn, sock, fd0 } = await oneConnection();
  sock.write('held across close');
  const c = (await conn.read())!;
  assert.is(Buffer.from(c.bytes).toString(), 'held across close');
  sock.destroy();
  await closedSocket(sock);
  // The app still holds c: close() must not hang on it and must free it.
  await server.close({ deadlineMs: 500 });
  try { void c.bytes; assert.unreachable('bytes after server close'); } catch (err) {
    assert.is((err as { code?: string }).code, 'ERR_CHUNK_RELEASED');
  }
  c.release(); // harmless once the server is gone
  await assertNoLeaks(server, fd0);
});

test('zero-copy write-back of a received chunk (no write-slab use)', async () => {
  const { server, conn, sock, fd0 } = await oneConnection();
  const echoed = (async () => {
    const c: Chunk | null = await conn.read();
    conn.write(c!.bytes); // the core takes its own reference on the buffer
    c!.release();         // ... so releasing right away is safe
    await conn.flush();
  })();
  const back = await deadline(roundTrip(sock, Buffer.from('zero copy')), 2000, 'echo');
  await echoed;
  assert.is(back.toString(), 'zero copy');
  const st = server.stats();
  assert.is(st.writeSlab.blocksInUse, 0);
  assert.is(st.buffers.app, 0, 'the core dropped its reference once sent');
  await finish(server, sock, fd0);
});

test('large writes are pinned (no copy) until sent; small ones are copied', async () => {
  const { server, conn, sock, fd0 } = await oneConnection();
  const big = pattern(3 << 20, 42);
  const p = readBytes(sock, big.length + 5);
  conn.write('small');
  assert.is(server.stats().writeSlab.pendingRanges, 1, 'the small write sits in the write slab');
  conn.write(big);
  assert.is(server.stats().pinnedBuffers, 1, 'the 3 MiB buffer is lent to the kernel');
  const f = conn.flush();
  const got = await deadline(p, 5000, 'read 3 MiB');
  await deadline(f, 2000, 'flush');
  assert.is(got.subarray(0, 5).toString(), 'small');
  assert.ok(got.subarray(5).equals(big), 'big write intact, after the small one');
  assert.is(server.stats().pinnedBuffers, 0, 'unpinned once sent');
  assert.is(server.stats().writeSlab.pendingRanges, 0);
  await finish(server, sock, fd0);
});

test('backpressure: write() returns false past highWaterMark; memory stays bounded for 48 MiB', async () => {
  const hwm = 256 << 10;
  const { server, conn, sock, fd0 } = await oneConnection({ reactor: { highWaterMark: hwm } });
  const total = 48 << 20, piece = 16 << 10;
  sock.pause();
  let maxQueued = 0, falses = 0;
  const producer = (async () => {
    const buf = new Uint8Array(piece);
    for (let off = 0; off < total; off += piece) {
      for (let i = 0; i < piece; i++) buf[i] = (off + i) % 251;
      const ok = conn.write(buf); // copied: buf is reused at once
      maxQueued = Math.max(maxQueued, conn.writableLength);
      if (!ok) { falses++; await conn.flush(); }
    }
    await conn.flush();
  })();
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(conn.writableLength > 0 && server.stats().bytesOut < total, 'the stalled client made the writer wait');
  let got = 0, bad = -1;
  sock.on('data', (d: Buffer) => {
    for (let i = 0; i < d.length && bad < 0; i++) if (d[i] !== (got + i) % 251) bad = got + i;
    got += d.length;
  });
  sock.resume();
  await deadline(producer, 30000, 'producer');
  await until(() => got >= total, 10000, 'all bytes');
  assert.is(bad, -1, `first wrong byte at ${bad}`);
  assert.ok(falses > 0, 'write() returned false at least once');
  assert.ok(maxQueued <= hwm + piece, `queued bytes stayed under hwm + one write (${maxQueued})`);
  await finish(server, sock, fd0);
});

test('write slab exhausted: writes still go out, in order, on their own memory', async () => {
  const fd0 = procFds();
  const server = await listen({
    port: 0,
    reactor: { writeSlabSize: 64 << 10, highWaterMark: 1 << 20 },
    async onConnection(conn) {
      // 20 x 30 KiB copies per connection, no waiting: far more than the 64 KiB slab.
      const id = Buffer.alloc(4);
      id.writeUInt32LE(conn.id);
      conn.write(id);
      for (let i = 0; i < 20; i++) conn.write(pattern(30 << 10, conn.id * 100 + i));
      await conn.flush();
    },
  });
  const socks = await Promise.all(Array.from({ length: 8 }, () => connect(server.address().port)));
  const all = await deadline(Promise.all(socks.map((s) => readBytes(s, 4 + 20 * (30 << 10)))), 10000, 'reads');
  for (const got of all) {
    const id = got.readUInt32LE(0);
    const want = Buffer.concat(Array.from({ length: 20 }, (_, i) => pattern(30 << 10, id * 100 + i)));
    assert.ok(got.subarray(4).equals(want), `connection ${id} received its 20 writes intact and in order`);
  }
  assert.ok(server.stats().writeSlab.blocks === 1, 'one 64 KiB block only');
  for (const s of socks) s.destroy();
  await Promise.all(socks.map(closedSocket));
  await server.close();
  await assertNoLeaks(server, fd0);
});

test('end(): half-close after queued writes; the client reads everything then EOF', async () => {
  const { server, conn, sock, fd0 } = await oneConnection({}, true);
  const body = pattern(200000, 3);
  conn.write(body);
  conn.end('tail');
  try { conn.write('more'); assert.unreachable('write after end'); } catch (err) {
    assert.is((err as { code?: string }).code, 'ERR_STREAM_WRITE_AFTER_END');
  }
  const got = await deadline(new Promise<Buffer>((resolve) => {
    const parts: Buffer[] = [];
    sock.on('data', (d: Buffer) => parts.push(d));
    sock.on('end', () => resolve(Buffer.concat(parts)));
  }), 3000, 'EOF');
  assert.ok(got.subarray(0, body.length).equals(body));
  assert.is(got.subarray(body.length).toString(), 'tail');
  // Reading still works after our half-close.
  sock.end('bye');
  const c = await conn.read();
  assert.is(Buffer.from(c!.bytes).toString(), 'bye');
  c!.release();
  assert.is(await conn.read(), null);
  await conn.close();
  await finish(server, sock, fd0);
});

test.after.each(closeLeftovers);
test.run();
