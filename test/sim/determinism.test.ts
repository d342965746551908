// Same seed -> the identical sequence of host calls and results (equal trace
// hashes and equal readable traces); different seeds -> different traces.
// Also: the simulator needs no N-API helper and reads no wall clock.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runScenario } from './scenario.ts';

test('equal seeds give equal trace hashes and identical traces', async () => {
  for (const seed of [7, 42, 1234]) {
    const a: string[] = [];
    const b: string[] = [];
    const ra = await runScenario(seed, { trace: (l) => a.push(l) });
    const rb = await runScenario(seed, { trace: (l) => b.push(l) });
    assert.ok(ra.calls > 100, `seed ${seed} made ${ra.calls} host calls`);
    assert.is(ra.hash, rb.hash);
    assert.is(ra.calls, rb.calls);
    assert.is(a.length, b.length);
    assert.ok(a.every((l, i) => l === b[i]), `seed ${seed}: the readable traces differ`);
    // tracing on or off does not change the run
    const rc = await runScenario(seed);
    assert.is(rc.hash, ra.hash);
  }
});

test('different seeds give different hashes', async () => {
  const hashes = new Set<string>();
  for (let s = 100; s < 120; s++) hashes.add((await runScenario(s)).hash);
  assert.is(hashes.size, 20);
});

test('runs with no N-API helper: no native module is ever loaded', async () => {
  const orig = process.dlopen;
  let calls = 0;
  process.dlopen = (() => {
    calls++;
    throw new Error('native modules are disabled in this test');
  }) as typeof process.dlopen;
  try {
    for (const seed of [3, 4, 5]) {
      const r = await runScenario(seed);
      assert.ok(r.calls > 0);
    }
  } finally {
    process.dlopen = orig;
  }
  assert.is(calls, 0);
});

test('the simulator uses no wall clock, no Math.random and no native helper', () => {
  const dir = fileURLToPath(new URL('../../bridge/sim/', import.meta.url));
  // recursive: the kernel's modules live in bridge/sim/kernel/
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((x) => x.endsWith('.ts'));
  assert.ok(files.includes('kernel/submit.ts'), 'the scan reaches bridge/sim/kernel/');
  for (const f of files) {
    const src = readFileSync(dir + f, 'utf8').replace(/\/\/.*$/gm, '');
    for (const banned of ['Date.now', 'new Date', 'performance.now', 'Math.random', 'process.hrtime', 'setTimeout', 'setImmediate', 'native.ts', '.node\'']) {
      // drive.ts (sim.runUntil) is the one bridge to the real event loop: it
      // yields a turn so the app's promises run, but never reads a clock.
      if (f === 'drive.ts' && banned === 'setImmediate') continue;
      assert.not.ok(src.includes(banned), `bridge/sim/${f} uses ${banned}`);
    }
  }
});

test.run();
