// Echo over real io_uring with real TCP clients on loopback: single and
// multiple messages, 200 concurrent connections, a 64 MiB echo with every byte
// checked. After each test: no fd, buffer or connection left.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Connection, type ReactorOptions, type Server } from '../../src/index.ts';
import {
  closeLeftovers, listen, assertNoLeaks, closedSocket, connect, deadline, pattern, procFds, roundTrip, until,
} from './helpers.ts';

async function echo(conn: Connection): Promise<void> {
  for await (const bytes of conn) {
    if (!conn.write(bytes)) await conn.flush();
  }
}

async function withEchoServer(fn: (server: Server, port: number) => Promise<void>,
  reactor: ReactorOptions = {}): Promise<void> {
  const fd0 = procFds();
  const server = await listen({ port: 0, onConnection: echo, reactor });
  try {
    await fn(server, server.address().port);
  } finally {
    await server.close({ deadlineMs: 2000 });
  }
  await assertNoLeaks(server, fd0);
}

test('port 0 picks a free port; address() reports it', async () => {
  await withEchoServer(async (server, port) => {
    const a = server.address();
    assert.ok(port > 0 && port < 65536, `port ${port}`);
    assert.is(a.address, '127.0.0.1');
    assert.is(a.family, 'IPv4');
    assert.is(server.listening, true);
    assert.is(server.backend.kind, 'native');
  });
});

test('echo: one message', async () => {
  await withEchoServer(async (server, port) => {
    const s = await connect(port);
    const back = await deadline(roundTrip(s, Buffer.from('hello, zergling')), 3000, 'echo');
    assert.is(back.toString(), 'hello, zergling');
    s.end();
    await closedSocket(s);
    assert.ok(server.stats().accepted >= 1);
  });
});

test('echo: many messages on one connection, in order', async () => {
  await withEchoServer(async (_server, port) => {
    const s = await connect(port);
    for (let i = 0; i < 200; i++) {
      const msg = pattern(1 + (i * 37) % 3000, i);
      const back = await deadline(roundTrip(s, msg), 3000, `message ${i}`);
      assert.ok(back.equals(msg), `message ${i} echoed exactly`);
    }
    // Pipelined: 100 messages written at once, read back as one stream.
    const burst = Buffer.concat(Array.from({ length: 100 }, (_, i) => pattern(500, 1000 + i)));
    const back = await deadline(roundTrip(s, burst), 5000, 'burst');
    assert.ok(back.equals(burst), 'pipelined burst echoed in order');
    s.end();
    await closedSocket(s);
  });
});

test('echo: 200 concurrent connections', async () => {
  await withEchoServer(async (server, port) => {
    const socks = await Promise.all(Array.from({ length: 200 }, () => connect(port)));
    const rounds = 5;
    await deadline(Promise.all(socks.map(async (s, i) => {
      for (let r = 0; r < rounds; r++) {
        const msg = pattern(64 + (i % 7) * 100, i * 31 + r);
        const back = await roundTrip(s, msg);
        if (!back.equals(msg)) throw new Error(`connection ${i} round ${r}: wrong bytes`);
      }
    })), 15000, '200 connections');
    const st = server.stats();
    assert.is(st.connections, 200, 'server sees 200 open connections');
    assert.ok(st.accepted >= 200);
    for (const s of socks) s.end();
    await Promise.all(socks.map(closedSocket));
  });
});

test('echo: 64 MiB, every byte checked, bounded memory', async () => {
  await withEchoServer(async (server, port) => {
    const total = 64 << 20;
    const s = await connect(port);
    const block = 1 << 20;
    const blocks = Array.from({ length: 8 }, (_, i) => pattern(block, 7 + i));
    let received = 0;
    let bad = -1;
    let peakHeld = 0;
    const done = new Promise<void>((resolve, reject) => {
      s.on('data', (d: Buffer) => {
        for (let i = 0; i < d.length && bad < 0; i++) {
          const pos = received + i;
          if (d[i] !== blocks[(pos / block | 0) % 8]![pos % block]) bad = pos;
        }
        received += d.length;
        const st = server.stats();
        peakHeld = Math.max(peakHeld, st.heldChunks);
        if (received >= total) resolve();
      });
      s.once('error', reject);
      s.once('end', () => reject(new Error(`EOF after ${received} bytes`)));
    });
    let sent = 0;
    const pump = async (): Promise<void> => {
      while (sent < total) {
        const b = blocks[(sent / block | 0) % 8]!;
        sent += b.length;
        if (!s.write(b)) await new Promise((r) => s.once('drain', r));
      }
    };
    await deadline(Promise.all([pump(), done]), 45000, '64 MiB echo');
    assert.is(bad, -1, `first wrong byte at ${bad}`);
    assert.is(received, total);
    // The client can see the last bytes before the server reaps their send CQE.
    await until(() => server.stats().bytesOut >= total, 2000, 'the core to count every byte sent');
    const st = server.stats();
    assert.ok(st.bytesIn >= total && st.bytesOut >= total, 'core counted the bytes both ways');
    assert.ok(peakHeld <= st.buffers.total, 'the app never held more than the ring');
    s.end();
    await closedSocket(s);
  });
});

test('echo: incremental buffer consumption (IOU_PBUF_RING_INC)', async () => {
  await withEchoServer(async (_server, port) => {
    const s = await connect(port);
    for (let i = 0; i < 50; i++) {
      const msg = pattern(1 + (i * 997) % 40000, 500 + i);
      const back = await deadline(roundTrip(s, msg), 3000, `incremental message ${i}`);
      assert.ok(back.equals(msg), `incremental message ${i}`);
    }
    s.end();
    await closedSocket(s);
  }, { incremental: true, recvBufferSize: 65536, bufferRingEntries: 64 });
});

test('echo: ring flags are passed through (SQPOLL, DEFER_TASKRUN, or neither); the kernel\'s answer is in stats()', async () => {
  for (const reactor of [{ sqpoll: true, sqThreadIdleMs: 10 }, { deferTaskrun: true }, { deferTaskrun: false }, { singleIssuer: false, deferTaskrun: false }]) {
    await withEchoServer(async (server, port) => {
      const s = await connect(port);
      for (let i = 0; i < 20; i++) {
        const back = await deadline(roundTrip(s, Buffer.from(`flags ${i}`)), 3000, `echo ${JSON.stringify(reactor)}`);
        assert.is(back.toString(), `flags ${i}`);
      }
      const flags = server.stats().ringFlags;
      if ('sqpoll' in reactor) assert.ok((flags & 0x2) !== 0 || flags === 0x1000 || flags === 0, `SQPOLL or a fallback (${flags.toString(16)})`);
      else if (reactor.deferTaskrun === true) assert.ok((flags & 0x2000) !== 0 || (flags & 0x1000) === 0, `DEFER_TASKRUN, or the fallback without it (${flags.toString(16)})`);
      else assert.is(flags & 0x2000, 0, 'no DEFER_TASKRUN when not asked for');
      if ('singleIssuer' in reactor) assert.is(flags & 0x1000, 0, 'no SINGLE_ISSUER when not asked for');
      s.end();
      await closedSocket(s);
    }, reactor);
  }
});

test('echo: IPv6 loopback', async () => {
  const fd0 = procFds();
  const server = await listen({ host: '::1', onConnection: echo });
  try {
    const a = server.address();
    assert.is(a.family, 'IPv6');
    const s = await connect(a.port, '::1');
    const back = await deadline(roundTrip(s, Buffer.from('six')), 3000, 'v6 echo');
    assert.is(back.toString(), 'six');
    s.end();
    await closedSocket(s);
  } finally {
    await server.close();
  }
  await assertNoLeaks(server, fd0);
});

test('echo: dual-stack socket (IPv4 client on a v6 socket, v4-mapped loopback only)', async () => {
  const fd0 = procFds();
  const server = await listen({ host: '::ffff:127.0.0.1', ipVersion: 'dual', onConnection: echo });
  const seen: string[] = [];
  server.onConnection(async (c) => { seen.push(c.remoteAddress ?? '?'); await echo(c); });
  try {
    const a = server.address();
    assert.is(a.family, 'IPv6');
    const s = await connect(a.port, '127.0.0.1');
    const back = await deadline(roundTrip(s, Buffer.from('dual')), 3000, 'dual echo');
    assert.is(back.toString(), 'dual');
    assert.equal(seen, ['::ffff:127.0.0.1'], 'the IPv4 peer shows as v4-mapped');
    s.end();
    await closedSocket(s);
  } finally {
    await server.close();
  }
  await assertNoLeaks(server, fd0);
});

test.after.each(closeLeftovers);
test.run();
