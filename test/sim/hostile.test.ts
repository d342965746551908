// Hostile clients on the simulated kernel, as in test/hostile on io_uring but
// deterministic: non-readers flood the README's echo server (their tiny
// receive window stalls every echo the server sends them), and echo clients
// that arrive later must each complete their round trips within a bounded
// virtual time. The invariant holds for every seed with the real core, and a
// core built without the receive budget (reactor-nobudget) must be caught.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSimBackend } from '../../bridge/sim/index.ts';
import { loadReactorVariant } from '../../bridge/index.ts';
import type { Reactor } from '../../bridge/backend.ts';
import { Server } from '../../src/server.ts';
import { resolveOptions } from '../../src/options.ts';
import type { Connection } from '../../src/connection.ts';

// 128 buffers: budget 16 per connection, reserve 32. The reserve outlasts the
// hogs because each can take at most one reserve buffer (its one-shot recv
// under pressure) before it is paused for good: fewer hogs than the reserve.
const HOGS = 16, ECHO = 4, TRIPS = 20, MSG = 512;
/** Bound on any one round trip, virtual ms (a healthy one takes well under 1 ms). */
const WAIT_MS_MAX = 200;

interface Outcome { ok: boolean; detail: string; hash: string }

async function scenario(seed: number, variant?: 'nobudget'): Promise<Outcome> {
  const sim = createSimBackend({ seed, serverWindow: [16384, 65536] });
  const opts = resolveOptions({ port: 0, backend: sim, reactor: { bufferRingEntries: 128, recvBufferSize: 512 } });
  const core: Reactor | undefined = variant ? await loadReactorVariant(sim, variant) : undefined;
  const echo = async (conn: Connection): Promise<void> => { for await (const b of conn) if (!conn.write(b)) await conn.flush(); };
  const errors: Error[] = [];
  const server = new Server(sim, false, opts, echo, (e) => errors.push(e), undefined, core ? () => core : undefined);
  const port = server.address().port;
  const nowMs = (): number => sim.world.now / 1e6;

  const junk = new Uint8Array(256 << 10).fill(0x5a);
  for (let i = 0; i < HOGS; i++) {
    const c = sim.client({ autoRead: false, rcvCap: 2048 });
    c.onConnect = () => c.write(junk);
    c.connect(port);
  }
  const trips = new Array<number>(ECHO).fill(0);
  let waitMax = 0;
  sim.world.after(20_000_000, () => { // 20 virtual ms later, once the hogs hold what they can
    for (let i = 0; i < ECHO; i++) {
      const c = sim.client();
      const msg = new Uint8Array(MSG).fill(i);
      let got = 0, sentAt = 0;
      const send = (): void => { sentAt = nowMs(); c.write(msg); };
      c.onConnect = send;
      c.onData = (b) => {
        got += b.length;
        while (got >= MSG) {
          got -= MSG;
          trips[i]!++;
          waitMax = Math.max(waitMax, nowMs() - sentAt);
          if (trips[i]! < TRIPS) send();
        }
      };
      c.connect(port);
    }
  });
  let detail = '';
  try {
    await sim.runUntil(() => trips.every((t) => t >= TRIPS), { maxVirtualMs: 5000 });
  } catch (e) {
    detail = `${(e as { code?: string }).code ?? e}: `;
  }
  const st = server.stats();
  detail += `trips ${trips.join(',')}, max wait ${waitMax.toFixed(1)} ms, paused ${st.budget.paused}, ` +
    `buffers app ${st.buffers.app}/${st.buffers.total}`;
  const ok = trips.every((t) => t >= TRIPS) && waitMax <= WAIT_MS_MAX && errors.length === 0;
  const hash = sim.trace.hash;
  let closed = false;
  void server.close({ deadlineMs: 50 }).then(() => { closed = true; });
  await sim.runUntil(() => closed, { maxVirtualMs: 10_000 }).catch(() => {});
  return { ok, detail, hash };
}

// `make sim` runs more (SIM_HOSTILE_SEEDS).
const SEEDS = Array.from({ length: Number(process.env.SIM_HOSTILE_SEEDS ?? 12) }, (_, i) => i + 1);

test(`every echo client makes ${TRIPS} round trips under ${HOGS} non-readers (${SEEDS.length} seeds)`, async () => {
  for (const seed of SEEDS) {
    const r = await scenario(seed);
    assert.ok(r.ok, `seed ${seed}: ${r.detail}`);
  }
});

test('the same seed replays the same hostile run', async () => {
  const a = await scenario(3), b = await scenario(3);
  assert.is(a.hash, b.hash);
});

test('a core without the receive budget is caught', async () => {
  let caught = 0;
  const details: string[] = [];
  for (const seed of SEEDS) {
    const r = await scenario(seed, 'nobudget');
    if (!r.ok) caught++;
    details.push(`seed ${seed}: ${r.detail}`);
  }
  assert.ok(caught >= SEEDS.length / 2, `caught on ${caught}/${SEEDS.length} seeds:\n${details.join('\n')}`);
  console.log(`nobudget core caught on ${caught}/${SEEDS.length} seeds`);
});

test.run();
