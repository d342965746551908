// Server and connection lifecycle on real io_uring: async iteration of
// connections, client disconnects (FIN and RST) detected, close() with open
// connections and in-flight writes, EADDRINUSE, AbortSignal. Leak check after each.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { type Connection } from '../../src/index.ts';
import {
  closeLeftovers, listen, assertNoLeaks, closedSocket, connect, deadline, pattern, procFds, roundTrip, sleep, until,
} from './helpers.ts';

test('connections by async iteration; remote address; server iterator ends at close', async () => {
  const fd0 = procFds();
  const server = await listen({ port: 0 });
  const seen: Connection[] = [];
  const loop = (async () => {
    for await (const conn of server) {
      seen.push(conn);
      void (async () => {
        for await (const b of conn) conn.write(b);
        await conn.close();
      })();
    }
  })();
  const s = await connect(server.address().port);
  const back = await deadline(roundTrip(s, Buffer.from('iter')), 3000, 'echo');
  assert.is(back.toString(), 'iter');
  assert.is(seen.length, 1);
  assert.is(seen[0]!.remoteAddress, '127.0.0.1');
  assert.is(seen[0]!.remotePort, s.localPort);
  assert.is(seen[0]!.localPort, server.address().port);
  assert.is(seen[0]!.remoteFamily, 'IPv4');
  s.end();
  await closedSocket(s);
  await server.close();
  await deadline(loop, 2000, 'server iterator ends');
  await assertNoLeaks(server, fd0);
});

test('client FIN is seen as end of stream; writes still allowed after it', async () => {
  const fd0 = procFds();
  let ended = false;
  let closedWith: string | null | undefined;
  const server = await listen({
    port: 0,
    async onConnection(conn) {
      let n = 0;
      for await (const b of conn) n += b.length;
      ended = conn.readableEnded;
      conn.write(`got ${n}`); // the peer only half-closed: our side can still answer
      await conn.flush();
      await conn.close();
      closedWith = conn.error?.code ?? null;
    },
  });
  const s = await connect(server.address().port);
  s.write(pattern(10000));
  s.end();
  const reply = await deadline(new Promise<string>((resolve) => {
    let text = '';
    s.on('data', (d: Buffer) => { text += d.toString(); });
    s.on('end', () => resolve(text));
  }), 3000, 'reply after half-close');
  assert.is(reply, 'got 10000');
  await closedSocket(s);
  await until(() => closedWith !== undefined, 2000, 'server side closed');
  assert.ok(ended, 'read loop ended at EOF');
  assert.is(closedWith, null, 'clean close');
  await server.close();
  await assertNoLeaks(server, fd0);
});

test('client reset is detected: conn closes with ECONNRESET, nothing leaks', async () => {
  const fd0 = procFds();
  const conns: Connection[] = [];
  const server = await listen({ port: 0, onConnection: (c) => { conns.push(c); } });
  const s = await connect(server.address().port);
  await until(() => conns.length === 1, 2000, 'accept');
  const conn = conns[0]!;
  s.write('unread by the server');
  await sleep(20);
  s.resetAndDestroy();
  await closedSocket(s);
  // The app is not reading; the reset must still be noticed.
  await deadline(conn.closed, 3000, 'closed after RST');
  assert.is(conn.state, 'closed');
  assert.is(conn.error?.code, 'ECONNRESET');
  // Data that arrived before the reset is still readable, then end of stream.
  const c = await conn.read();
  assert.ok(c !== null, 'buffered data readable after close');
  assert.is(Buffer.from(c!.bytes).toString(), 'unread by the server');
  c!.release();
  assert.is(await conn.read(), null);
  assert.is(server.stats().connections, 0);
  await server.close();
  await assertNoLeaks(server, fd0);
});

test('close() with idle and busy connections: clients see EOF, in-flight writes finish', async () => {
  const fd0 = procFds();
  const big = pattern(4 << 20, 99);
  const server = await listen({
    port: 0,
    onConnection(conn) {
      // Every connection gets 4 MiB right away, then stays open: close() must
      // let these writes drain before closing.
      conn.write(big);
    },
  });
  const port = server.address().port;
  const socks = await Promise.all(Array.from({ length: 8 }, () => connect(port)));
  for (const s of socks) s.pause(); // nobody reads yet: writes stay in flight
  await until(() => server.stats().connections === 8, 2000, '8 connections');
  const closing = server.close({ deadlineMs: 10000 });
  assert.is(server.listening, false);
  // New connections are refused once the listener is closed.
  await sleep(20);
  await assert_refused(port);
  const results = await deadline(Promise.all(socks.map((s) => new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.once('end', () => resolve(Buffer.concat(parts)));
    s.once('error', reject);
    s.resume();
  }))), 15000, 'clients see EOF');
  for (const r of results) assert.ok(r.equals(big), 'every in-flight byte arrived before EOF');
  for (const s of socks) s.end();
  await Promise.all(socks.map(closedSocket));
  await deadline(closing, 10000, 'close()');
  await assertNoLeaks(server, fd0);
});

async function assert_refused(port: number): Promise<void> {
  const err = await new Promise<Error | null>((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => { s.destroy(); resolve(null); });
    s.once('error', resolve);
  });
  assert.is((err as { code?: string } | null)?.code, 'ECONNREFUSED', 'listener closed');
}

test('close() deadline: a client that never reads is aborted, nothing leaks', async () => {
  const fd0 = procFds();
  let conn: Connection | undefined;
  let flushError: Error | undefined;
  const server = await listen({
    port: 0,
    reactor: { highWaterMark: 1 << 20 },
    async onConnection(c) {
      conn = c;
      const chunk = pattern(1 << 20, 5);
      // Far more than the socket buffers hold; the client never reads.
      try {
        for (let i = 0; i < 64; i++) if (!c.write(chunk)) await c.flush();
      } catch (err) {
        flushError = err as Error;
      }
    },
  });
  const s = await connect(server.address().port);
  s.pause();
  s.on('error', () => {});
  // Wait until the socket buffers are full and a flush() is stuck.
  await until(() => conn !== undefined && conn.writableLength > 0, 2000, 'writes queued');
  await sleep(200);
  assert.ok(conn!.writableLength > 0, 'writes still pending: the client is not reading');
  const t0 = Date.now();
  await deadline(server.close({ deadlineMs: 300 }), 5000, 'close() with deadline');
  const took = Date.now() - t0;
  assert.ok(took >= 250 && took < 3000, `close took ${took} ms (deadline 300)`);
  assert.is(conn!.state, 'closed');
  assert.ok(flushError !== undefined, 'the pending flush() rejected when the connection was aborted');
  s.destroy();
  await closedSocket(s);
  await assertNoLeaks(server, fd0);
});

test('EADDRINUSE surfaces with its code, and the failed listen leaks nothing', async () => {
  const fd0 = procFds();
  const a = await listen({ port: 0 });
  const port = a.address().port;
  const fd1 = procFds();
  try {
    await listen({ port });
    assert.unreachable('second listen on the same port');
  } catch (err) {
    assert.instance(err, Error);
    assert.is((err as { code?: string }).code, 'EADDRINUSE');
    assert.is((err as { errno?: number }).errno, -98);
    assert.match((err as Error).message, /EADDRINUSE/);
  }
  assert.is(procFds(), fd1, 'the failed listen left no fd');
  await a.close();
  await assertNoLeaks(a, fd0);

  // A port held by node:net.
  const other = net.createServer();
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  const held = (other.address() as net.AddressInfo).port;
  const fd2 = procFds();
  const err = await listen({ port: held }).then(() => null, (e: unknown) => e as { code?: string });
  assert.is(err?.code, 'EADDRINUSE');
  assert.is(procFds(), fd2);
  await new Promise((r) => other.close(r));
});

test('maxConnections: excess connections are closed and counted; the others are unaffected', async () => {
  const fd0 = procFds();
  const server = await listen({
    port: 0, reactor: { maxConnections: 2 },
    async onConnection(c) { for await (const b of c) c.write(b); },
  });
  const port = server.address().port;
  const a = await connect(port);
  const b = await connect(port);
  assert.is((await roundTrip(a, Buffer.from('a'))).toString(), 'a');
  assert.is((await roundTrip(b, Buffer.from('b'))).toString(), 'b');
  const extra = await Promise.all([connect(port), connect(port)]);
  for (const x of extra) x.on('error', () => {});
  await deadline(Promise.all(extra.map(closedSocket)), 3000, 'excess connections closed by the server');
  await until(() => server.stats().rejected === 2, 2000, '2 rejected');
  assert.is(server.stats().connections, 2);
  assert.is((await roundTrip(a, Buffer.from('still'))).toString(), 'still', 'the others are unaffected');
  a.end(); b.end();
  await Promise.all([closedSocket(a), closedSocket(b)]);
  await server.close();
  await assertNoLeaks(server, fd0);
});

test('reusePort: two servers share one port and the kernel spreads connections', async () => {
  const fd0 = procFds();
  const hits = [0, 0];
  const make = (i: number) => async (c: Connection): Promise<void> => {
    hits[i]!++;
    for await (const b of c) c.write(b);
  };
  const a = await listen({ port: 0, reusePort: true, onConnection: make(0) });
  const port = a.address().port;
  const b = await listen({ port, reusePort: true, onConnection: make(1) });
  const socks = await Promise.all(Array.from({ length: 40 }, () => connect(port)));
  for (const s of socks) assert.is((await roundTrip(s, Buffer.from('rp'))).toString(), 'rp');
  assert.is(hits[0]! + hits[1]!, 40);
  assert.ok(hits[0]! > 0 && hits[1]! > 0, `both servers got connections (${hits.join(' / ')})`);
  for (const s of socks) s.end();
  await Promise.all(socks.map(closedSocket));
  await a.close();
  await b.close();
  await assertNoLeaks(a, fd0);
  await assertNoLeaks(b, fd0);
});

test('AbortSignal closes the server', async () => {
  const fd0 = procFds();
  const ac = new AbortController();
  const server = await listen({ port: 0, signal: ac.signal, onConnection: async (c) => { for await (const b of c) c.write(b); } });
  const s = await connect(server.address().port);
  assert.is((await roundTrip(s, Buffer.from('x'))).toString(), 'x');
  const end = new Promise<void>((r) => s.once('end', r));
  ac.abort();
  await deadline(end, 3000, 'EOF after abort');
  s.end();
  await closedSocket(s);
  await deadline(server.close(), 3000, 'close() after abort resolves');
  await assertNoLeaks(server, fd0);
});

test('handler errors: the connection is destroyed and onError hears about it', async () => {
  const fd0 = procFds();
  const errors: Error[] = [];
  const server = await listen({
    port: 0,
    onError: (e) => errors.push(e),
    async onConnection(conn) {
      for await (const b of conn) {
        if (Buffer.from(b).toString() === 'boom') throw new Error('handler failed');
        conn.write(b);
      }
    },
  });
  const s = await connect(server.address().port);
  assert.is((await roundTrip(s, Buffer.from('ok'))).toString(), 'ok');
  s.on('error', () => {});
  s.write('boom');
  await deadline(closedSocket(s), 3000, 'connection dropped');
  await until(() => errors.length === 1, 1000, 'onError');
  assert.is(errors[0]!.message, 'handler failed');
  await server.close();
  await assertNoLeaks(server, fd0);
});

test.after.each(closeLeftovers);
test.run();
