// Every case of cases.ts against the server on the simulator and on real
// io_uring (loopback). A case passes on a backend when every connection it
// ran saw exactly the statuses (and bodies) it expects and the server closed
// (or kept open) the connection as it must. The results go to
// build/http-conformance.json, which scripts/http-table.mjs renders into
// docs/HTTP.md.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CASES, startServer, type Case } from './cases.ts';
import { newSim, runNative, runSim, type Observed } from './client.ts';

interface Result { group: string; name: string; expected: string; sim: string; native: string; simOk: boolean; nativeOk: boolean; connections: number }
const results: Result[] = [];

function verdict(c: Case, obs: Observed[]): { ok: boolean; text: string } {
  for (const o of obs) {
    const okStatuses = JSON.stringify(o.statuses) === JSON.stringify(c.statuses);
    const finals = c.bodies ?? [];
    const okBodies = finals.every((b, i) => b === undefined || o.bodies[i] === b);
    const okClose = o.closed === c.close;
    if (!okStatuses || !okBodies || !okClose) {
      return { ok: false, text: `${o.statuses.join(',') || 'none'}${o.closed ? ', closed' : ''} (bodies ${JSON.stringify(o.bodies).slice(0, 80)})` };
    }
  }
  const o = obs[0]!;
  return { ok: true, text: `${o.statuses.join(', ')}${o.closed ? ', closed' : ''}` };
}

const expected = (c: Case): string => `${c.statuses.join(', ')}${c.close ? ', closed' : ''}`;

test(`at least 40 cases`, () => {
  assert.ok(CASES.length >= 40, `${CASES.length} cases`);
});

test('every case on the simulator (seeded) and on io_uring', async () => {
  const sim = newSim(11);
  const simServer = await startServer({ backend: sim });
  const native = await startServer({});
  const failures: string[] = [];
  try {
    for (const c of CASES) {
      const s = verdict(c, await runSim(c, sim, simServer.address().port));
      const n = verdict(c, await runNative(c, native.address().port));
      const conns = c.splitEveryByte && typeof c.send === 'string' ? c.send.length - 1 : 1;
      results.push({ group: c.group, name: c.name, expected: expected(c), sim: s.text, native: n.text, simOk: s.ok, nativeOk: n.ok, connections: conns });
      if (!s.ok) failures.push(`sim: ${c.name}: expected ${expected(c)}, got ${s.text}`);
      if (!n.ok) failures.push(`native: ${c.name}: expected ${expected(c)}, got ${n.text}`);
    }
  } finally {
    await sim.runUntil(simServer.close()).catch(() => {});
    await native.close();
  }
  const out = fileURLToPath(new URL('../../build/http-conformance.json', import.meta.url));
  mkdirSync(fileURLToPath(new URL('../../build/', import.meta.url)), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), cases: results }, null, 1));
  const ok = results.filter((r) => r.simOk && r.nativeOk).length;
  console.log(`  ${ok}/${results.length} cases pass on both backends (${results.reduce((a, r) => a + r.connections, 0)} connections each)`);
  assert.equal(failures, [], failures.join('\n'));
});

test.run();
