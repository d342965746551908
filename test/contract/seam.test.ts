// The seam between TypeScript and the host is narrow: only the Wasm core calls
// `Host` (backend.host.*). Whatever the TS layer needs of the host is a named
// method of `Backend` (bridge/backend.ts), so the list of what it can ask is
// one interface, and a host call the core never makes cannot slip into src/.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST_NAMES, hostCalls, type Backend } from '../../bridge/backend.ts';
import { createSimBackend } from '../../bridge/sim/index.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((e) => {
    const rel = `${dir}/${e}`;
    return statSync(join(root, rel)).isDirectory() ? tsFiles(rel) : rel.endsWith('.ts') ? [rel] : [];
  });
}

test('src/ never calls the host directly (no `.host.`)', () => {
  const found: string[] = [];
  for (const f of tsFiles('src')) {
    readFileSync(join(root, f), 'utf8').split('\n').forEach((line, i) => {
      // `.host.x` / `.host[x]`, or the host table taken into a variable (`= backend.host;`).
      if (/\.host\s*(\.|\[)/.test(line) || /=\s*[\w.#]*\.host\s*;/.test(line)) found.push(`${f}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.equal(found, [], 'use a named Backend method (bridge/backend.ts)');
});

test('every seam method is one host call, with the host\'s result (on the simulator)', () => {
  const sim = createSimBackend({ seed: 3 });
  const calls: string[] = [];
  const host = Object.fromEntries(HOST_NAMES.map((n) => [n, (...a: unknown[]) => {
    calls.push(n);
    return (sim.host[n] as (...x: unknown[]) => unknown)(...a);
  }])) as unknown as Backend['host'];
  const b = hostCalls(host);
  assert.equal(Object.keys(b), ['closeFd', 'slabCreate', 'slabDestroy', 'destroyRing', 'peerAddress', 'localAddress', 'pinThreadToCpu'],
    'the seam: what the TS layer asks of the host');
  const slab = b.slabCreate(4096);
  assert.ok(slab >= 0);
  assert.is(b.slabDestroy(slab), 0);
  assert.is(b.slabDestroy(slab), sim.host.slabDestroy(slab), 'same -EBADF');
  assert.ok(b.closeFd(0) < 0, 'not the guest\'s fd');
  assert.ok(b.destroyRing(0xdead) < 0);
  assert.ok(b.peerAddress(0).ret < 0);
  assert.ok(b.localAddress(0).ret < 0);
  b.pinThreadToCpu(-1);
  assert.equal(calls, ['slabCreate', 'slabDestroy', 'slabDestroy', 'close', 'destroyRing',
    'getpeername', 'getsockname', 'pinCurrentThreadToCpu']);
  for (const k of Object.keys(b)) assert.type((sim as unknown as Record<string, unknown>)[k], 'function', `sim backend has ${k}`);
});

test.run();
