// Failures stay in their reactor: a handler that throws or rejects is reported
// with the reactor's index while every reactor keeps serving; a crashed
// reactor thread is reported, its connections and listener are closed, and
// the others take its share. Bad options and bad handler modules fail listen()
// before anything is left running.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { listen, type ReactorError } from '../../src/cluster/index.ts';
import { ownedFds } from '../../bridge/native.ts';
import { assertClusterClean, closeTracked, echoClient, fdReport, procFds, statsWhen, tracked, until } from './helpers.ts';

const FAULTY = new URL('./handlers/faulty.ts', import.meta.url);
const ECHO = new URL('./handlers/echo.ts', import.meta.url);

async function clients(port: number, n: number, seed: number): Promise<{ ok: number; failed: number }> {
  const r = await Promise.allSettled(Array.from({ length: n }, (_, i) => echoClient(port, 1024, seed + i, 10000)));
  return { ok: r.filter((x) => x.status === 'fulfilled').length, failed: r.filter((x) => x.status === 'rejected').length };
}

test.after.each(closeTracked);

test('a handler that throws in reactor 1 is reported with its index; reactor 0 keeps serving', async () => {
  const base = procFds();
  const errors: ReactorError[] = [];
  const server = tracked(await listen({ port: 0, reactors: 2, handler: FAULTY, handlerOptions: { throwIn: 1 } }));
  server.on('error', (e) => errors.push(e));
  const { port } = server.address();
  const first = await clients(port, 100, 1);
  // Round-robin: half the connections went to each reactor.
  assert.equal(first, { ok: 50, failed: 50 });
  await until(() => errors.length === 50, 3000, '50 errors reported');
  assert.ok(errors.every((e) => e.reactor === 1 && e.message === 'handler threw in reactor 1'), errors[0]?.message);
  const again = await clients(port, 100, 1000);
  assert.equal(again, { ok: 50, failed: 50 }, 'both reactors still take connections');
  const st = await server.stats();
  assert.equal(server.reactorStates(), ['running', 'running']);
  assert.equal(st.perReactor.map((r) => r.accepted), [100, 100], 'the throwing reactor still takes its share');
  await server.close();
  await assertClusterClean(server, base);
});

test('a rejecting handler (reuseport) is reported through onError with its code and reactor', async () => {
  const base = procFds();
  const errors: ReactorError[] = [];
  const server = tracked(await listen({
    port: 0, reactors: 2, handler: FAULTY, handlerOptions: { rejectIn: 0 }, distribution: 'reuseport',
    onError: (e) => errors.push(e),
  }));
  const r = await clients(server.address().port, 60, 1);
  const st = await server.stats();
  const [r0, r1] = st.perReactor.map((p) => p.accepted) as [number, number];
  assert.is(r.ok, r1, 'reactor 1 served all its connections');
  assert.is(r.failed, r0, 'reactor 0 destroyed all of its');
  await until(() => errors.length === r0, 3000, `${r0} errors`);
  assert.ok(errors.every((e) => e.reactor === 0 && e.code === 'E_TEST'));
  await server.close();
  await assertClusterClean(server, base);
});

for (const distribution of ['acceptor', 'reuseport'] as const) {
  test(`${distribution}: a crashed reactor thread is reported; its fds are closed; the others serve everything after`, async () => {
    const base = procFds();
    const errors: ReactorError[] = [];
    const server = tracked(await listen({ port: 0, reactors: 2, handler: FAULTY, handlerOptions: { crashIn: 1 }, distribution }));
    server.on('error', (e) => errors.push(e));
    const { port } = server.address();
    await clients(port, 40, 1); // some land on reactor 1 and die with it
    await until(() => errors.length > 0, 5000, 'the crash reported');
    assert.is(errors.length, 1, errors.map((e) => `reactor ${e.reactor} ${e.code}: ${e.message}`).join('; '));
    assert.is(errors[0]!.reactor, 1);
    assert.is(errors[0]!.code, 'ERR_ZERGLING_REACTOR_CRASHED');
    assert.match(errors[0]!.message, /uncaught in reactor 1/);
    assert.equal(server.reactorStates(), ['running', 'crashed']);
    // The crashed thread freed its connections and its listener: only the
    // surviving reactor's fds (and, for 'acceptor', the acceptor's listener) remain.
    const st = await statsWhen(server, (s) => s.perReactor[0]!.connections === 0);
    assert.is(st.perReactor[0]!.connections, 0, 'reactor 0 closed the connections its clients ended');
    await until(() => ownedFds() === 1, 3000).catch(() => undefined);
    if (ownedFds() !== 1) assert.is(ownedFds(), 1, `one listener left (the acceptor's, or reactor 0's):\n${await fdReport()}`);
    const after = await clients(port, 100, 500);
    assert.equal(after, { ok: 100, failed: 0 }, 'reactor 0 takes every new connection');
    await server.close();
    const fin = await server.stats();
    assert.is(fin.fds, 0);
    assert.is(fin.perReactor[0]!.state, 'closed');
    assert.is(fin.perReactor[0]!.reactorConnections, 0);
    assert.is(fin.perReactor[0]!.buffers.app, 0);
    await until(() => procFds() <= base, 3000, `/proc/self/fd back to ${base} (now ${procFds()})`);
    assert.is(procFds(), base);
  });
}

test('open connections at close(): clients see EOF, nothing is left; per-reactor open counts', async () => {
  const base = procFds();
  const server = tracked(await listen({ port: 0, reactors: 4, handler: ECHO }));
  const { port } = server.address();
  const socks = await Promise.all(Array.from({ length: 40 }, () => new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  })));
  await until(() => false === socks.some((s) => s.pending), 1000);
  const st = await statsWhen(server, (s) => s.connections === 40);
  assert.equal(st.perReactor.map((r) => r.connections), [10, 10, 10, 10], 'open connections per reactor');
  assert.is(st.connections, 40);
  const ended = Promise.all(socks.map((s) => new Promise<void>((r) => s.once('close', () => r()))));
  socks.forEach((s) => s.resume());
  await server.close({ deadlineMs: 1000 });
  await ended;
  await assertClusterClean(server, base);
});

test('reactors are separate threads: one blocked by its handler does not stall another', async () => {
  const base = procFds();
  const server = tracked(await listen({ port: 0, reactors: 2, handler: FAULTY, handlerOptions: { blockIn: 0 } }));
  const { port } = server.address();
  const connect = (): Promise<net.Socket> => new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(s));
    s.on('error', reject);
  });
  const echoOnce = (s: net.Socket, msg: string): Promise<void> => new Promise((resolve) => {
    let got = '';
    const on = (d: Buffer): void => { got += d.toString(); if (got.length >= msg.length) { s.off('data', on); resolve(); } };
    s.on('data', on);
    s.write(msg);
  });
  // Round-robin from reactor 0: the first connection is reactor 0's, the second reactor 1's.
  const a = await connect();
  await echoOnce(a, 'hello');
  const b = await connect();
  await echoOnce(b, 'hello');
  const blocked = echoOnce(a, 'block');
  await new Promise((r) => setTimeout(r, 50)); // reactor 0 is now spinning
  const lat: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    await echoOnce(b, `ping ${i}`);
    lat.push(performance.now() - t);
  }
  const maxLat = Math.max(...lat);
  assert.ok(maxLat < 150, `reactor 1 answered within ${maxLat.toFixed(1)} ms while reactor 0 was blocked`);
  await blocked;
  a.destroy();
  b.destroy();
  const st = await server.stats();
  assert.equal(st.perReactor.map((r) => r.accepted), [1, 1]);
  await server.close();
  await assertClusterClean(server, base);
});

test('close() ends reactor threads even when the handler module left a timer running', async () => {
  const base = procFds();
  const server = tracked(await listen({ port: 0, reactors: 2, handler: FAULTY, handlerOptions: { leaveTimer: true } }));
  assert.is(await echoClient(server.address().port, 100, 3), 100);
  const t = Date.now();
  await server.close();
  assert.ok(Date.now() - t < 2000, `closed in ${Date.now() - t} ms`);
  await assertClusterClean(server, base);
});

test('an AbortSignal closes the cluster', async () => {
  const base = procFds();
  const ac = new AbortController();
  const server = tracked(await listen({ port: 0, reactors: 2, handler: ECHO, signal: ac.signal }));
  assert.is(await echoClient(server.address().port, 100, 7), 100);
  ac.abort();
  await server.close();
  await assertClusterClean(server, base);
});

test('bad options fail before any thread or socket exists', async () => {
  const base = procFds();
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ handler: ECHO, reactors: 0 }, 'ERR_OUT_OF_RANGE'],
    [{ handler: ECHO, reactors: 1.5 }, 'ERR_OUT_OF_RANGE'],
    [{ handler: ECHO, reactors: '2' }, 'ERR_INVALID_ARG_TYPE'],
    [{}, 'ERR_INVALID_ARG_TYPE'],
    [{ handler: 42 }, 'ERR_INVALID_ARG_TYPE'],
    [{ handler: ECHO, distribution: 'random' }, 'ERR_INVALID_ARG_VALUE'],
    [{ handler: ECHO, pinThreads: 'yes' }, 'ERR_INVALID_ARG_TYPE'],
    [{ handler: ECHO, handlerOptions: { f: () => 1 } }, 'ERR_INVALID_ARG_VALUE'],
    [{ handler: ECHO, reactor: { bufferRingEntries: 3 } }, 'ERR_OUT_OF_RANGE'],
    [{ handler: ECHO, port: 70000 }, 'ERR_OUT_OF_RANGE'],
    [{ handler: ECHO, onConnection: () => {} }, 'ERR_INVALID_ARG_VALUE'],
    [{ handler: ECHO, backend: {} }, 'ERR_INVALID_ARG_VALUE'],
    [{ handler: ECHO, channelCapacity: 1000 }, 'ERR_OUT_OF_RANGE'],
    [{ handler: ECHO, bogus: 1 }, 'ERR_INVALID_ARG_VALUE'],
  ];
  for (const [opts, code] of bad) {
    const err = await listen(opts as never).then(() => null, (e: unknown) => e as { code?: string });
    assert.ok(err !== null, `${JSON.stringify(opts)} refused`);
    assert.is(err.code, code, `${JSON.stringify(opts)}: ${String(err)}`);
  }
  assert.is(procFds(), base);
  assert.is(ownedFds(), 0);
});

test('a handler module that cannot load fails listen() with its error; nothing is left', async () => {
  const base = procFds();
  for (const distribution of ['acceptor', 'reuseport'] as const) {
    const e1 = await listen({ port: 0, reactors: 2, handler: new URL('./handlers/no-default.ts', import.meta.url), distribution })
      .then(() => null, (e: unknown) => e as ReactorError);
    assert.ok(e1 !== null);
    assert.is(e1.code, 'ERR_INVALID_ARG_TYPE');
    assert.match(e1.message, /default function/);
    const e2 = await listen({ port: 0, reactors: 2, handler: new URL('./handlers/missing.ts', import.meta.url), distribution })
      .then(() => null, (e: unknown) => e as ReactorError);
    assert.ok(e2 !== null);
    assert.is(e2.code, 'ERR_MODULE_NOT_FOUND');
  }
  assert.is(ownedFds(), 0);
  await until(() => procFds() <= base, 3000, `/proc/self/fd back to ${base} (now ${procFds()})`);
});

test('EADDRINUSE surfaces from listen() with its code; nothing is left', async () => {
  const base = procFds();
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  const port = (taken.address() as net.AddressInfo).port;
  for (const distribution of ['acceptor', 'reuseport'] as const) {
    const err = await listen({ port, reactors: 2, handler: ECHO, distribution }).then(() => null, (e: unknown) => e as { code?: string });
    assert.is(err?.code, 'EADDRINUSE', distribution);
  }
  await new Promise<void>((r) => taken.close(() => r()));
  assert.is(ownedFds(), 0);
  await until(() => procFds() <= base, 3000, `/proc/self/fd back to ${base} (now ${procFds()})`);
});

test.run();
