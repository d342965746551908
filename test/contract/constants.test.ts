// The constants C and TS share have one source, wasm/abi/constants.mjs. This
// file holds the three ways they could still drift: a committed view edited by
// hand or left stale (regenerate into a temp dir and compare), a copy creeping
// back into C or TS (scan for redefinitions), and the compiled core disagreeing
// with the table (run it on the simulator and read the numbers it produces).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend, Host, Reactor } from '../../bridge/backend.ts';
import * as C from '../../bridge/consts.ts';
import { loadReactor } from '../../bridge/index.ts';
import { createSimBackend, type SimBackend } from '../../bridge/sim/index.ts';
import { GROUPS } from '../../wasm/abi/constants.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const OUTPUTS = ['wasm/include/zl_consts.h', 'bridge/consts.ts'];

test('the committed zl_consts.h and bridge/consts.ts are what the generator writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zl-consts-'));
  try {
    execFileSync(process.execPath, [join(root, 'scripts/gen-constants.mjs'), '--out', dir]);
    for (const rel of OUTPUTS) {
      const fresh = readFileSync(join(dir, rel), 'utf8');
      const committed = readFileSync(join(root, rel), 'utf8');
      assert.ok(fresh === committed, `${rel} differs from the table: run \`node scripts/gen-constants.mjs\``);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every table entry is in both views, with the same value', () => {
  const h = readFileSync(join(root, 'wasm/include/zl_consts.h'), 'utf8');
  const exported = C as unknown as Record<string, number>;
  let n = 0;
  for (const g of GROUPS) {
    for (const [name, v] of g.entries) {
      assert.is(exported[g.ts + name], v, `TS ${g.ts + name}`);
      const m = new RegExp(`\\b${g.c + name} = (0x[0-9a-f]+|\\d+),`).exec(h);
      assert.ok(m !== null, `C ${g.c + name}`);
      assert.is(Number(m[1]), v, `C ${g.c + name}`);
      n++;
    }
  }
  assert.ok(n > 60, `${n} constants`);
});

function files(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir))) {
    const rel = `${dir}/${e}`;
    if (e === 'gen' || e === 'node_modules') continue;
    if (statSync(join(root, rel)).isDirectory()) out.push(...files(rel, ext));
    else if (ext.test(e)) out.push(rel);
  }
  return out;
}

test('no C header or TS module defines a table constant again', () => {
  const cNames = GROUPS.flatMap((g) => g.entries.map(([n]) => g.c + n));
  const tsNames = new Set(GROUPS.flatMap((g) => g.entries.map(([n]) => g.ts + n)));
  const found: string[] = [];
  for (const f of [...files('wasm/include', /\.h$/), ...files('wasm/src', /\.[ch]$/), ...files('wasm/probe', /\.[ch]$/)]) {
    if (f === 'wasm/include/zl_consts.h') continue;
    const s = readFileSync(join(root, f), 'utf8');
    for (const n of cNames) {
      if (new RegExp(`(#define\\s+${n}\\b|\\b${n}\\s*=[^=])`).test(s)) found.push(`${f}: ${n}`);
    }
  }
  for (const f of [...files('src', /\.ts$/), ...files('bridge', /\.ts$/)]) {
    if (f === 'bridge/consts.ts') continue;
    const s = readFileSync(join(root, f), 'utf8');
    for (const m of s.matchAll(/\bconst\s+([A-Z][A-Z0-9_]*)\s*=\s*-?(0x[0-9a-f]+|\d)/gi)) {
      if (tsNames.has(m[1]!)) found.push(`${f}: ${m[1]}`);
    }
  }
  assert.equal(found, [], 'import these from bridge/consts.ts (TS) or zl_consts.h (C)');
});

// ---- the compiled core against the table, on the simulator

const CONFIG = {
  ringEntries: 16, ringFlags: C.IORING_SETUP_SINGLE_ISSUER | C.IORING_SETUP_DEFER_TASKRUN, sqThreadCpu: -1,
  sqThreadIdleMs: 0, recvBufferSize: 512, bufferRingEntries: 8, cqeBatch: 16, maxConnections: 8, incremental: false,
  bufGroup: 0, recvBudget: 0, recvReserve: 0, idleTimeoutMs: 0, endTimeoutMs: 0, maxFd: 1024, sendRanges: 64,
};

interface Run { sim: SimBackend; reactor: Reactor; events: number[][]; enterFlags: number[] }

/** A reactor on a fresh simulated kernel, every event it returns recorded as [kind, conn, w1, w2, w3]. */
function start(seed: number): Run {
  const sim = createSimBackend({ seed });
  const enterFlags: number[] = [];
  const host: Host = {
    ...sim.host,
    enter: (ring, toSubmit, minComplete, flags, ts) => {
      enterFlags.push(flags);
      return sim.host.enter(ring, toSubmit, minComplete, flags, ts);
    },
  };
  const reactor = loadReactor({ ...sim, host } as Backend);
  assert.is(reactor.create(CONFIG), 0);
  const events: number[][] = [];
  const run: Run = { sim, reactor, events, enterFlags };
  sim.watch(reactor.ring(), () => {
    for (let round = 0; round < 16; round++) {
      const ev = reactor.tick();
      for (let i = 0; i < ev.length; i += 4) {
        const kind = ev[i]! & 0xff, conn = ev[i]! >>> 8;
        events.push([kind, conn, ev[i + 1]!, ev[i + 2]!, ev[i + 3]!]);
        if (kind === C.EV_DATA) reactor.release(ev[i + 1]!);
        if (kind === C.EV_EOF) reactor.close(conn, false);
      }
      reactor.submit();
      if (ev.length === 0) return;
    }
  });
  return run;
}

test('the core: event kinds, the DEFER_TASKRUN flag and GETEVENTS are the table\'s numbers', () => {
  const { sim, reactor, events, enterFlags } = start(7);
  const port = reactor.listen('127.0.0.1', 0, 4, 64);
  assert.ok(port > 0, `listen = ${port}`);
  reactor.submit();
  const c = sim.client();
  c.onConnect = () => { c.write(new Uint8Array([1, 2, 3])); c.shutdownWrite(); };
  c.connect(port);
  sim.run(100_000, () => events.some((e) => e[0] === C.EV_CLOSED));
  const kinds = events.map((e) => e[0]);
  assert.equal(kinds, [C.EV_OPEN, C.EV_DATA, C.EV_EOF, C.EV_CLOSED], JSON.stringify(events));
  assert.is(events[1]![4], 3, 'data: 3 bytes');
  assert.is(events[3]![2], 0, 'closed cleanly (errno 0)');
  const flags = reactor.stats().ringFlags;
  assert.is(flags & C.IORING_SETUP_DEFER_TASKRUN, C.IORING_SETUP_DEFER_TASKRUN, `ring flags 0x${flags.toString(16)}`);
  // The core enters with GETEVENTS because it read DEFER_TASKRUN from the ring.
  assert.ok(enterFlags.length > 0 && enterFlags.every((f) => f === C.IORING_ENTER_GETEVENTS), `enter flags ${enterFlags}`);
  c.close();
  reactor.destroy();
  sim.run();
});

test('the core: listen-ex flags, -EINVAL and the handoff event kind are the table\'s numbers', () => {
  const { sim, reactor, events } = start(8);
  const unknown = ~C.LISTEN_KNOWN >>> 0;
  assert.is(reactor.listenEx('127.0.0.1', 0, 4, 64, unknown), -C.EINVAL, 'every bit outside LISTEN_KNOWN');
  assert.is(reactor.listenEx('127.0.0.1', 0, 4, 64, C.LISTEN_KNOWN + 1), -C.EINVAL);
  const port = reactor.listenEx('127.0.0.1', 0, 4, 64, C.LISTEN_HANDOFF);
  assert.ok(port > 0, `listen-ex = ${port}`);
  reactor.submit();
  const c = sim.client();
  c.connect(port);
  sim.run(100_000, () => events.length > 0);
  assert.is(events.length, 1, JSON.stringify(events));
  const [kind, conn, fd] = events[0]!;
  assert.is(kind, C.EV_HANDOFF);
  assert.is(conn, 0);
  assert.ok(fd! > 0);
  assert.is(sim.host.close(fd!), 0, 'an fd the guest owns');
  c.close();
  reactor.destroy();
  sim.run();
});

test.run();
