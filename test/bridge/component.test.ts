// bridge/component.ts: the reactor component loaded from core modules the
// caller compiles (the browser path, no node: import). The file list comes
// from jco's glue itself; missing or unreadable modules fail with a code.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileReactorCores, instantiateReactor, reactorCoreFiles } from '../../bridge/component.ts';
import { createSimBackend } from '../../bridge/sim/index.ts';
import { loadReactor } from '../../bridge/index.ts';
import { EV_CLOSED, EV_OPEN } from '../../bridge/consts.ts';

const GEN = fileURLToPath(new URL('../../bridge/gen/reactor/', import.meta.url));
/** A small reactor on the simulator. */
const CFG = { ringEntries: 8, ringFlags: 0, sqThreadCpu: -1, sqThreadIdleMs: 0, recvBufferSize: 256,
  bufferRingEntries: 8, cqeBatch: 8, maxConnections: 4, incremental: false, bufGroup: 0,
  recvBudget: 0, recvReserve: 0, idleTimeoutMs: 0, endTimeoutMs: 0, maxFd: 4096, sendRanges: 4096 };

test('reactorCoreFiles lists exactly the core modules jco wrote, without reading them', () => {
  const files = reactorCoreFiles();
  assert.ok(files.length > 0);
  assert.equal([...files].sort(), readdirSync(GEN).filter((f) => f.endsWith('.wasm')).sort());
});

test('a reactor instantiated from fetched-style bytes works on the simulator', async () => {
  const seen: string[] = [];
  const get = await compileReactorCores(async (f) => {
    seen.push(f);
    return new Response(readFileSync(GEN + f), { headers: { 'content-type': 'application/wasm' } });
  });
  assert.equal(seen, reactorCoreFiles(), 'each file fetched once, in order');
  const sim = createSimBackend({ seed: 1 });
  const r = instantiateReactor(sim, get);
  assert.is(r.create(CFG), 0);
  assert.ok(r.listen('127.0.0.1', 0, 4, 8) > 0, 'listens on the virtual network');
  assert.is(r.destroy(), 0);
  assert.ok(sim.trace.calls > 5, 'the core called the simulated host');
  const e = (() => { try { get('nope.wasm'); } catch (x) { return x; } return undefined; })();
  assert.is((e as { code?: string }).code, 'ERR_ZERGLING_CORE_MODULE');
});

test('an HTTP error while fetching a core module rejects with ERR_ZERGLING_CORE_MODULE', async () => {
  try {
    await compileReactorCores(async () => new Response('not found', { status: 404 }));
    assert.unreachable('should reject');
  } catch (e) {
    assert.is((e as { code?: string }).code, 'ERR_ZERGLING_CORE_MODULE');
    assert.match((e as Error).message, /HTTP 404/);
  }
});

test('tick hands out its events in place, intact until the next tick', () => {
  const sim = createSimBackend({ seed: 3 });
  const r = loadReactor(sim);
  assert.is(r.create(CFG), 0);
  const port = r.listen('127.0.0.1', 0, 4, 8);
  assert.ok(port > 0);
  r.submit();
  sim.client().connect(port);
  sim.client().connect(port);
  let ev: Uint32Array = new Uint32Array(0);
  for (let i = 0; i < 20 && ev.length < 8; i++) { sim.run(); ev = r.tick(); }
  assert.equal([ev[0]! & 0xff, ev[4]! & 0xff], [EV_OPEN, EV_OPEN], 'both connections opened in one batch');
  assert.ok(ev.byteOffset > 0 || ev.buffer.byteLength > ev.byteLength, 'a view into the core, not a copy');
  const held = Array.from(ev);
  // A close with nothing in flight pushes its closed event at once, while
  // the app still reads the batch: it must land elsewhere.
  assert.is(r.close(ev[0]! >>> 8, true), 0);
  assert.is(r.close(ev[4]! >>> 8, true), 0);
  assert.equal(Array.from(ev), held, 'the batch is intact after calls that push events');
  let next = r.tick();
  for (let i = 0; i < 20 && next.length < 8; i++) { sim.run(); next = r.tick(); }
  assert.equal([next[0]! & 0xff, next[4]! & 0xff], [EV_CLOSED, EV_CLOSED]);
  assert.is(r.destroy(), 0);
});

test('peek-batch-cqe copies the host\'s CQEs into the lent block with no typed array of its own per call', () => {
  const sim = createSimBackend({ seed: 5 });
  let peeks = 0, cqeBytes = 0, inHost = 0;
  const real = sim.host.peekBatchCqe;
  sim.host.peekBatchCqe = (ring, max) => {
    inHost++;
    try { const v = real(ring, max); peeks++; cqeBytes += v.byteLength; return v; } finally { inHost--; }
  };
  const r = loadReactor(sim);
  assert.is(r.create(CFG), 0);
  const port = r.listen('127.0.0.1', 0, 4, 8);
  assert.ok(port > 0);
  r.submit();
  r.tick(); // the first peek makes the one cached view of the core's memory
  for (let i = 0; i < 3; i++) sim.client().connect(port);
  // Every Uint8Array made while ticking, except the host's own result.
  const Real = globalThis.Uint8Array;
  let made = 0;
  globalThis.Uint8Array = new Proxy(Real, {
    construct(target, args, nt) { if (inHost === 0) made++; return Reflect.construct(target, args, nt); },
  });
  let opened = 0;
  try {
    for (let i = 0; i < 40 && opened < 3; i++) {
      sim.run();
      const ev = r.tick();
      for (let j = 0; j < ev.length; j += 4) if ((ev[j]! & 0xff) === EV_OPEN) opened++;
    }
  } finally {
    globalThis.Uint8Array = Real;
  }
  assert.is(opened, 3, 'the CQEs reached the core: three accepts became three open events');
  assert.ok(peeks >= 1 && cqeBytes >= 3 * 16, `the host returned the CQEs (${peeks} peeks, ${cqeBytes} bytes)`);
  assert.is(made, 0, 'no typed array made per call by the lowering');
  assert.is(r.destroy(), 0);
});

test.run();
