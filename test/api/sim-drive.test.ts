// sim.runUntil: virtual time and the event loop driven together, so an app on
// listen() runs on the simulated kernel with nothing but `await`. Its bounds
// reject with coded errors; equal seeds give equal traces.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSimBackend, SimDriveError, type SimBackend } from '../../bridge/sim/index.ts';
import { listen, type Server } from '../../src/index.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

async function echo(sim: SimBackend): Promise<Server> {
  return listen({
    backend: sim,
    port: 0,
    async onConnection(conn) {
      for await (const b of conn) if (!conn.write(b)) await conn.flush();
    },
  });
}

async function rejects(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

async function echoRun(seed: number): Promise<{ text: string; hash: string; calls: number }> {
  const sim = createSimBackend({ seed, faults: { shortSend: 0.5, segmentSplit: 0.5, partialRead: 0.5 } });
  const server = await echo(sim);
  const c = sim.client({ readChunk: [1, 7] });
  let text = '';
  c.onData = (b) => { text += dec.decode(b); };
  c.connect(server.address().port);
  c.write(enc.encode('x'.repeat(3000) + 'end'));
  c.shutdownWrite();
  await sim.runUntil(() => c.done);
  await sim.runUntil(server.close());
  assert.is(sim.ownedFds(), 0, 'close() inside runUntil freed every fd');
  return { text, hash: sim.trace.hash, calls: sim.trace.calls };
}

test('an echo app on listen() completes with one await; same seed, same trace', async () => {
  const a = await echoRun(9);
  const b = await echoRun(9);
  const c = await echoRun(10);
  assert.is(a.text, 'x'.repeat(3000) + 'end');
  assert.ok(a.calls > 50, `${a.calls} host calls`);
  assert.is(a.hash, b.hash, 'equal seeds, equal trace hashes');
  assert.is(a.calls, b.calls);
  assert.is.not(a.hash, c.hash, 'a different seed, a different trace');
});

test('run() alone does not let the app respond; runUntil does', async () => {
  const sim = createSimBackend({ seed: 1 });
  const server = await echo(sim);
  const c = sim.client();
  let got = 0;
  c.onData = (b) => { got += b.length; };
  c.connect(server.address().port);
  c.write(enc.encode('hello'));
  sim.run(200_000);
  assert.is(got, 0, 'the synchronous world cannot run the app\'s promises');
  const r = await sim.runUntil(() => got === 5);
  assert.is(got, 5);
  assert.ok(r.steps > 0 && r.turns > 0 && r.virtualNs > 0, JSON.stringify(r));
  c.close();
  await sim.runUntil(server.close());
});

test('a condition that can never hold: ERR_SIM_STALLED once the world is idle and the app quiet', async () => {
  const sim = createSimBackend({ seed: 2 });
  const server = await echo(sim);
  const c = sim.client();
  c.connect(server.address().port);
  c.write(enc.encode('no EOF follows'));
  const e = await rejects(sim.runUntil(() => c.done));
  assert.instance(e, SimDriveError);
  assert.is((e as SimDriveError).code, 'ERR_SIM_STALLED');
  assert.ok((e as SimDriveError).steps > 0, 'it ran the world before giving up');
  // the simulation is intact: finishing the exchange still works
  c.shutdownWrite();
  await sim.runUntil(() => c.done);
  await sim.runUntil(server.close());
});

test('bounds: maxVirtualMs and maxSteps reject with ERR_SIM_TIMEOUT, bad bounds with ERR_OUT_OF_RANGE', async () => {
  const sim = createSimBackend({ seed: 3 });
  let fired = false;
  sim.world.after(5e9, () => { fired = true; }); // 5 virtual seconds from now
  const t = await rejects(sim.runUntil(() => fired, { maxVirtualMs: 1000 }));
  assert.is((t as SimDriveError).code, 'ERR_SIM_TIMEOUT');
  assert.match((t as Error).message, /maxVirtualMs/);
  assert.not.ok(fired, 'time stopped before the event');
  const r = await sim.runUntil(() => fired, { maxVirtualMs: 10_000 });
  assert.ok(fired);
  assert.is(r.virtualNs, 5e9, 'virtual time jumped straight to the event');

  let n = 0;
  const tick = (): void => { n++; sim.world.after(1000, tick); };
  tick();
  const s = await rejects(sim.runUntil(() => false, { maxSteps: 100 }));
  assert.is((s as SimDriveError).code, 'ERR_SIM_TIMEOUT');
  assert.is((s as SimDriveError).steps, 100);
  assert.is(n, 101);

  const bad = await rejects(sim.runUntil(() => true, { maxSteps: -1 }));
  assert.instance(bad, RangeError);
  assert.is((bad as { code?: string }).code, 'ERR_OUT_OF_RANGE');
});

test('runUntil(promise) resolves with its value and rejects with its error', async () => {
  const sim = createSimBackend({ seed: 4 });
  const server = await echo(sim);
  const c = sim.client();
  c.connect(server.address().port);
  const value = await sim.runUntil(new Promise<string>((resolve) => { c.onConnect = () => resolve('connected'); }));
  assert.is(value, 'connected');
  const boom = new Error('boom');
  assert.is(await rejects(sim.runUntil(Promise.reject(boom))), boom);
  c.close();
  await sim.runUntil(server.close());
});

test.run();
