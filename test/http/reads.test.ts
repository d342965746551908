// How serve() reads: chunks are pushed to the connection by buffer id and
// offset (Connection.receiveRaw), so a request on the fast path costs no
// promise for its read. Checked on the simulator: every buffer reference goes
// back (between requests and after close, whatever path a request took), and
// promises made per request stay near zero while a plain receive() server
// driven by the same client loop is the baseline.
import { createHook } from 'node:async_hooks';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSimBackend, type SimBackend, type SimClient } from '../../bridge/sim/index.ts';
import { listen } from '../../src/index.ts';
import { serve, headerBlock, type FastHandler } from '../../src/http/index.ts';
import { parseResponses } from './client.ts';

function client(sim: SimBackend, port: number): { c: SimClient; raw: () => Buffer } {
  const c = sim.client();
  const parts: Buffer[] = [];
  c.onData = (b) => { parts.push(Buffer.from(b)); };
  c.connect(port);
  return { c, raw: () => Buffer.concat(parts) };
}

/** Lets `ms` virtual milliseconds pass (the server reads what was written meanwhile). */
async function pause(sim: SimBackend, ms: number): Promise<void> {
  let up = false;
  sim.setTimer!(ms, () => { up = true; });
  await sim.runUntil(() => up);
}

const TEXT = headerBlock({ 'content-type': 'text/plain' });
const GET = Buffer.from('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi');

test('every buffer reference goes back: sync, async, unread bodies across chunks, HEAD, pipelined, then close', async () => {
  const sim = createSimBackend({ seed: 21 });
  const handler: FastHandler = async (req, res) => {
    if (req.pathIs('/async')) await new Promise<void>((r) => sim.setTimer!(5, r));
    if (req.pathIs('/read')) {
      let n = 0;
      for (let b = await req.read(); b !== null; b = await req.read()) n += b.length;
      res.headers(TEXT).end(`read ${n}`);
      return;
    }
    res.headers(TEXT).end(req.url);
  };
  const server = await serve({ backend: sim, port: 80, handler });
  const { c, raw } = client(sim, 80);
  // Pipelined: a sync-style answer, an async one, a body left unread, a HEAD.
  c.write(Buffer.from('GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /async HTTP/1.1\r\nHost: t\r\n\r\n'
    + 'POST /unread HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhelloHEAD /h HTTP/1.1\r\nHost: t\r\n\r\n'));
  await sim.runUntil(() => parseResponses(raw(), [3]).statuses.length === 4);
  assert.is(server.stats().heldChunks, 0, 'an idle connection holds no buffer');
  // A body cut across several writes, left unread (discarded as it comes), then one read in pieces.
  c.write(Buffer.from('POST /unread HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n01'));
  await pause(sim, 2);
  c.write(Buffer.from('2345'));
  await pause(sim, 2);
  c.write(Buffer.from('6789POST /read HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n'));
  await pause(sim, 2);
  c.write(Buffer.from('2\r\nde\r\n0\r\n\r\n'));
  await sim.runUntil(() => parseResponses(raw(), [3]).statuses.length === 6);
  const r = parseResponses(raw(), [3]);
  assert.equal(r.statuses, [200, 200, 200, 200, 200, 200]);
  assert.equal(r.bodies, ['/a', '/async', '/unread', '', '/unread', 'read 5']);
  assert.is(server.stats().heldChunks, 0, 'idle again: no buffer held');
  assert.is(server.stats().http.requests, 6);
  c.close();
  await sim.runUntil(server.close());
});

test('a refused request and a lingering close give every buffer back', async () => {
  const sim = createSimBackend({ seed: 22 });
  const server = await serve({ backend: sim, port: 80, handler: (_q, res) => { res.headers(TEXT).end('x'); } });
  const { c, raw } = client(sim, 80);
  // 400, then bytes that keep coming while the connection lingers.
  c.write(Buffer.from('GET / HTTP/1.1\r\nHost: t\r\nbad header\r\n\r\n'));
  await sim.runUntil(() => parseResponses(raw()).statuses.length === 1);
  for (let i = 0; i < 5; i++) { c.write(GET); await pause(sim, 1); }
  c.close();
  await sim.runUntil(() => c.done && server.stats().connections === 0, { maxVirtualMs: 20_000 });
  assert.equal(parseResponses(raw()).statuses, [400]);
  assert.is(server.stats().heldChunks, 0);
  await sim.runUntil(server.close());
});

/** Responses in `b` so far. */
function answers(b: Buffer): number {
  let n = 0;
  for (let at = b.indexOf('HTTP/1.1 200'); at !== -1; at = b.indexOf('HTTP/1.1 200', at + 1)) n++;
  return n;
}

/** Promises made while `rounds` requests go one by one (each answered before the next is written). */
async function promisesFor(sim: SimBackend, port: number, rounds: number): Promise<number> {
  const { c, raw } = client(sim, port);
  await sim.runUntil(() => c.state === 'connected');
  let n = 0;
  const hook = createHook({ init(_id, type) { if (type === 'PROMISE') n++; } });
  hook.enable();
  for (let i = 1; i <= rounds; i++) {
    c.write(GET);
    await sim.runUntil(() => answers(raw()) >= i);
  }
  hook.disable();
  c.close();
  return n;
}

test('the fast path makes no promise per request: within 0.25 per request of a plain receive() server', async () => {
  const rounds = 200;
  const simA = createSimBackend({ seed: 23 });
  const base = await listen({
    backend: simA, port: 80,
    onConnection: (conn) => conn.receive(() => { conn.write(RESPONSE); }),
  });
  const baseline = await promisesFor(simA, 80, rounds);
  await simA.runUntil(base.close());

  const simB = createSimBackend({ seed: 23 });
  const server = await serve({ backend: simB, port: 80, handler: (_q, res) => { res.headers(TEXT).end('hi'); } });
  const http = await promisesFor(simB, 80, rounds);
  await simB.runUntil(server.close());
  const perRequest = (http - baseline) / rounds;
  assert.ok(perRequest <= 0.25, `serve(): ${http} promises, receive() baseline: ${baseline}, ${perRequest.toFixed(2)} more per request`);
});

test.run();
