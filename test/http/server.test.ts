// serve() behaviour on the simulator (virtual time, seeded): the header-read
// timeout against slowloris, the keep-alive timeout, graceful close with a
// request in flight, a streamed response with backpressure to a slow reader,
// fetch-style streaming, and a throwing handler.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSimBackend, type SimBackend, type SimClient } from '../../bridge/sim/index.ts';
import { serve, headerBlock, type FastHandler } from '../../src/http/index.ts';
import { parseResponses } from './client.ts';

function client(sim: SimBackend, port: number, opts?: Parameters<SimBackend['client']>[0]): { c: SimClient; raw: () => Buffer } {
  const c = sim.client(opts);
  const parts: Buffer[] = [];
  c.onData = (b) => { parts.push(Buffer.from(b)); };
  c.connect(port);
  return { c, raw: () => Buffer.concat(parts) };
}

const TEXT = headerBlock({ 'content-type': 'text/plain' });
const hello: FastHandler = (_req, res) => { res.headers(TEXT).end('hi'); };

test('slowloris: a head still incomplete after headersTimeoutMs gets 408 and is closed', async () => {
  const sim = createSimBackend({ seed: 3 });
  const server = await serve({ backend: sim, port: 80, handler: hello, headersTimeoutMs: 1000 });
  const { c, raw } = client(sim, 80);
  c.write(Buffer.from('GET / HTTP/1.1\r\nHo'));
  const t0 = sim.world.now / 1e6;
  // one more byte every 300 virtual ms: each is progress, none completes the head
  let sent = 0;
  const drip = (): void => {
    if (c.done || sent++ > 40) return;
    c.write(Buffer.from('x'));
    sim.setTimer!(300, drip);
  };
  sim.setTimer!(300, drip);
  await sim.runUntil(() => c.done, { maxVirtualMs: 20_000 });
  const took = sim.world.now / 1e6 - t0;
  assert.equal(parseResponses(raw()).statuses, [408]);
  assert.ok(took >= 750 && took <= 1600, `closed after ${took} virtual ms`);
  assert.is(server.stats().http.timeouts.headers, 1);
  await sim.runUntil(server.close());
});

test('keep-alive: an idle connection is closed after keepAliveTimeoutMs', async () => {
  const sim = createSimBackend({ seed: 4 });
  const server = await serve({ backend: sim, port: 80, handler: hello, keepAliveTimeoutMs: 2000 });
  const { c, raw } = client(sim, 80);
  c.write(Buffer.from('GET / HTTP/1.1\r\nHost: t\r\n\r\n'));
  await sim.runUntil(() => parseResponses(raw()).statuses.length === 1);
  const t0 = sim.world.now / 1e6;
  await sim.runUntil(() => c.done, { maxVirtualMs: 20_000 });
  const idle = sim.world.now / 1e6 - t0;
  assert.ok(idle >= 1400 && idle <= 3000, `closed after ${idle} virtual ms idle`);
  assert.is(server.stats().http.timeouts.keepAlive, 1);
  await sim.runUntil(server.close());
});

test('graceful close: the idle connection closes now, the request in flight completes with Connection: close', async () => {
  const sim = createSimBackend({ seed: 5 });
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const server = await serve({
    backend: sim, port: 80,
    handler: async (req, res) => { if (req.pathIs('/slow')) await gate; res.headers(TEXT).end(req.url); },
  });
  const idle = client(sim, 80);
  idle.c.write(Buffer.from('GET /fast HTTP/1.1\r\nHost: t\r\n\r\n'));
  const busy = client(sim, 80);
  busy.c.write(Buffer.from('GET /slow HTTP/1.1\r\nHost: t\r\n\r\n'));
  await sim.runUntil(() => parseResponses(idle.raw()).statuses.length === 1 && server.stats().http.requests === 2);
  const closing = server.close({ deadlineMs: 5000 });
  await sim.runUntil(() => idle.c.done);
  assert.not.ok(busy.c.done, 'the busy connection is still open');
  release();
  await sim.runUntil(closing);
  const r = parseResponses(busy.raw());
  assert.equal(r.statuses, [200]);
  assert.equal(r.bodies, ['/slow']);
  assert.match(busy.raw().toString('latin1'), /\r\nConnection: close\r\n/);
});

test('a 4 MiB streamed response to a slow reader: write() returns false, flush() waits, every byte arrives in order', async () => {
  const sim = createSimBackend({ seed: 6 });
  const piece = Buffer.alloc(16 << 10);
  let falses = 0;
  const server = await serve({
    backend: sim, port: 80,
    handler: async (_req, res) => {
      res.headers(TEXT);
      for (let i = 0; i < 256; i++) {
        piece.fill(i & 0xff);
        if (!res.write(piece)) { falses++; await res.flush(); }
      }
      res.end();
    },
  });
  const { c, raw } = client(sim, 80, { rcvCap: 64 << 10, readChunk: [8192, 8192], readDelay: [200_000, 200_000] });
  c.write(Buffer.from('GET / HTTP/1.1\r\nHost: t\r\n\r\n'));
  await sim.runUntil(() => parseResponses(raw()).statuses.length === 1, { maxVirtualMs: 120_000 });
  const r = parseResponses(raw());
  const body = Buffer.from(r.bodies[0]!, 'latin1');
  assert.is(body.length, 256 * piece.length);
  for (let i = 0; i < 256; i++) assert.is(body[i * piece.length + 100], i & 0xff, `piece ${i}`);
  assert.ok(falses > 0, 'backpressure was signalled');
  c.close();
  await sim.runUntil(server.close());
});

test('fetch-style: a ReadableStream body is sent chunked; a string body with Content-Length; request bodies arrive', async () => {
  const sim = createSimBackend({ seed: 7 });
  const server = await serve({
    backend: sim, port: 80,
    fetch: async (request) => {
      if (new URL(request.url).pathname === '/stream') {
        let n = 0;
        return new Response(new ReadableStream<Uint8Array>({
          pull(ctl) { if (n++ === 3) ctl.close(); else ctl.enqueue(new TextEncoder().encode(`part${n};`)); },
        }));
      }
      return new Response(`${request.method} ${await request.text()}`, { status: 201, headers: { 'x-test': 'yes' } });
    },
  });
  const { c, raw } = client(sim, 80);
  c.write(Buffer.from('GET /stream HTTP/1.1\r\nHost: t\r\n\r\nPOST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody'));
  await sim.runUntil(() => parseResponses(raw()).statuses.length === 2);
  const text = raw().toString('latin1');
  const r = parseResponses(raw());
  assert.equal(r.statuses, [200, 201]);
  assert.equal(r.bodies, ['part1;part2;part3;', 'POST body']);
  assert.match(text, /transfer-encoding: chunked/i);
  assert.match(text, /\r\nx-test: yes\r\n/);
  c.close();
  await sim.runUntil(server.close());
});

test('a handler that throws: 500, connection closed, onError gets the error', async () => {
  const sim = createSimBackend({ seed: 8 });
  const errors: Error[] = [];
  const server = await serve({
    backend: sim, port: 80, onError: (e) => errors.push(e),
    handler: () => { throw new Error('boom'); },
  });
  const { c, raw } = client(sim, 80);
  c.write(Buffer.from('GET / HTTP/1.1\r\nHost: t\r\n\r\n'));
  await sim.runUntil(() => c.done);
  assert.equal(parseResponses(raw()).statuses, [500]);
  assert.is(errors.length, 1);
  assert.is(errors[0]!.message, 'boom');
  await sim.runUntil(server.close());
});

test.run();
