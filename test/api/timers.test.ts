// The reactor never blocks Node's event loop: while 64 clients (another
// process) hammer the echo server, a 10 ms interval keeps firing on schedule
// and other I/O (a node:net server in the same loop) is served.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import net from 'node:net';
import {
  closeLeftovers, listen, assertNoLeaks, closedSocket, connect, deadline, procFds, roundTrip,
} from './helpers.ts';

// 64 connections, 64-byte messages, one in flight each, for DURATION ms; checks
// every echoed byte; prints {"msgs": N, "errors": N}.
const LOAD = `
const net = require('node:net');
const [port, conns, ms] = process.argv.slice(1).map(Number);
let msgs = 0, errors = 0, open = 0;
const end = Date.now() + ms;
for (let c = 0; c < conns; c++) {
  const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
  const msg = Buffer.alloc(64, c & 0xff);
  let got = 0;
  s.on('connect', () => { open++; s.write(msg); });
  s.on('data', (d) => {
    for (const b of d) if (b !== (c & 0xff)) errors++;
    got += d.length;
    while (got >= 64) { got -= 64; msgs++; if (Date.now() < end) s.write(msg); else { s.end(); break; } }
  });
  s.on('error', () => { errors++; });
  s.on('close', () => { if (--open === 0) { console.log(JSON.stringify({ msgs, errors })); } });
}
setTimeout(() => process.exit(2), ms + 5000).unref();
`;

test('timers fire on schedule while 64 clients hammer the server', async () => {
  const fd0 = procFds();
  const server = await listen({
    port: 0,
    async onConnection(conn) { for await (const b of conn) if (!conn.write(b)) await conn.flush(); },
  });
  // Other I/O in the same loop: a plain node:net echo server.
  const side = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => side.listen(0, '127.0.0.1', r));
  const sidePort = (side.address() as net.AddressInfo).port;

  const DURATION = 2500, PERIOD = 10;
  const child = spawn(process.execPath, ['-e', LOAD, String(server.address().port), '64', String(DURATION)],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

  const lateness: number[] = [];
  let sideTrips = 0;
  try {
    const start = performance.now();
    let next = start + PERIOD;
    const timer = new Promise<void>((resolve) => {
      const iv = setInterval(() => {
        const now = performance.now();
        lateness.push(now - next);
        next += PERIOD;
        while (next < now) next += PERIOD; // a missed period counts once, as lateness
        if (now - start >= DURATION - 100) { clearInterval(iv); resolve(); }
      }, PERIOD);
    });
    // The side server answers while the load runs.
    const side_io = (async () => {
      const probe = await connect(sidePort);
      for (let i = 0; i < 20; i++) {
        const b = await deadline(roundTrip(probe, Buffer.from(`side ${i}`)), 1000, 'side server round trip');
        if (b.toString() === `side ${i}`) sideTrips++;
        await new Promise((r) => setTimeout(r, 50));
      }
      probe.end();
      await closedSocket(probe);
    })();
    await Promise.all([timer, side_io]);
    const code = await deadline(exited, DURATION + 8000, 'load process');
    assert.is(code, 0, 'load process finished');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await new Promise((r) => side.close(r));
  }
  const res = JSON.parse(out.trim()) as { msgs: number; errors: number };
  lateness.sort((a, b) => a - b);
  const p50 = lateness[Math.floor(lateness.length * 0.5)]!;
  const p99 = lateness[Math.floor(lateness.length * 0.99)]!;
  const max = lateness[lateness.length - 1]!;
  const expected = Math.floor((DURATION - 100) / PERIOD);
  console.log(`  load: ${res.msgs} echoes (${Math.round(res.msgs / (DURATION / 1000))}/s), errors ${res.errors}; ` +
    `timer: ${lateness.length}/${expected} firings, late p50 ${p50.toFixed(2)} ms p99 ${p99.toFixed(2)} ms max ${max.toFixed(2)} ms`);
  assert.is(res.errors, 0, 'every echoed byte right');
  assert.ok(res.msgs > 20000, `the server was under real load (${res.msgs} echoes)`);
  // Count-based with generous bounds (the machine may be busy with other
  // work): a reactor that blocked the loop would leave the interval silent
  // for the whole load, seconds, not a few late firings.
  assert.ok(lateness.length >= expected * 0.5, `interval fired ${lateness.length} of ${expected} times`);
  assert.ok(max < 1000, `max lateness ${max.toFixed(2)} ms`);
  void p99;
  assert.is(sideTrips, 20, 'other I/O served');
  await server.close();
  await assertNoLeaks(server, fd0);
});

test.after.each(closeLeftovers);
test.run();
