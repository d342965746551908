// make bench-bridge: ns per host call, Wasm -> jco glue -> native backend.
// Each number times one export of the probe guest (wasm/probe/zp_bench.c)
// that loops N times inside Wasm; the loop, the JS->Wasm entry (once per N)
// and, for peek, the guest's free() of each returned batch are included.
// Median of 5 runs. Loopback only; a few seconds in total.
// Prints the table and writes it to bench/results/bridge.json (or the path
// given as the first argument): date, machine, node and jco versions, runs,
// and per row name, ns, notes (and `within`: the row it is a part of).
// bench/readme.mjs generates the README's bridge table from that file.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Host } from '../bridge/index.ts';
import { createNativeBackend } from '../bridge/native.ts';
import {
  SOCK_CLOEXEC, SOCK_NONBLOCK, camel, collect, connect, hostImportNames, listenFromWasm, loadProbe, sleep,
} from '../test/bridge/probe.ts';
import type { Probe } from '../test/bridge/probe.ts';

const RUNS = 5;
const OUT = process.argv[2] ?? fileURLToPath(new URL('results/bridge.json', import.meta.url));
const JCO = (JSON.parse(readFileSync(fileURLToPath(new URL('../node_modules/@bytecodealliance/jco/package.json', import.meta.url)), 'utf8')) as {
  version: string;
}).version;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function timeNs(f: () => unknown): number {
  const t0 = performance.now();
  f();
  return (performance.now() - t0) * 1e6;
}

function ok(what: string, r: number | bigint): void {
  if (r < 0) throw new Error(`${what} = ${r}`);
}

const backend = createNativeBackend();
const { probe: p } = loadProbe(false, backend);

// Times `submit` from inside the host, so the sequence's kernel share is shown
// rather than silently included or subtracted.
let submitNs = 0;
let submits = 0;
const { probe: pTimed } = loadProbe(false, backend, (h: Host) => {
  const src = h as unknown as Record<string, (...a: unknown[]) => unknown>;
  const out: Record<string, unknown> = {};
  for (const n of hostImportNames().map(camel)) out[n] = src[n]!.bind(src);
  out.submit = (ring: number) => {
    const t0 = process.hrtime.bigint();
    const r = src.submit!(ring);
    submitNs += Number(process.hrtime.bigint() - t0);
    submits++;
    return r;
  };
  return out as unknown as Host;
});

interface Row {
  name: string;
  ns: number;
  notes: string;
  within?: string;
}
const rows: Row[] = [];
const row = (name: string, ns: number, notes: string, within?: string) =>
  rows.push({ name, ns: Math.round(ns * 10) / 10, notes, ...(within === undefined ? {} : { within }) });

// ---- a scalar import: sq-ready
{
  const ring = p.createRing(64);
  ok('create-ring', ring);
  const N = 1_000_000;
  p.benchSqReady(ring, 100_000); // warm up (JIT of the glue)
  const ns = median(Array.from({ length: RUNS }, () => timeNs(() => p.benchSqReady(ring, N)))) / N;
  row('sq-ready (a scalar import)', ns, `${N.toLocaleString('en-US')} calls per run`);
  ok('destroy-ring', p.destroyRing(ring));
}

// ---- peek-batch-cqe returning 64 CQEs (1 KiB list<u8> copied into Wasm)
{
  const ring = p.createRing(64); // CQ = 128
  for (let i = 0; i < 64; i++) {
    const s = p.getSqe(ring);
    ok('get-sqe', s);
    ok('set-data64', p.sqeSetData64(s, BigInt(i)));
  }
  ok('submit-and-wait', p.submitAndWait(ring, 64));
  if (p.cqReady(ring) !== 64) throw new Error(`cq-ready = ${p.cqReady(ring)}`);
  const N = 200_000;
  if (p.benchPeek64(ring, 10_000) !== 64n * 10_000n) throw new Error('peek did not return 64 CQEs');
  const ns = median(Array.from({ length: RUNS }, () => timeNs(() => p.benchPeek64(ring, N)))) / N;
  row('peek-batch-cqe returning 64 CQEs', ns, `${(ns / 64).toFixed(2)} ns per CQE; malloc + free in the guest included`);
  ok('cq-advance', p.cqAdvance(ring, 64));
  ok('destroy-ring', p.destroyRing(ring));
}

// ---- get-sqe + prep-send + sqe-set-data64, to a real loopback connection
async function sendSeq(): Promise<void> {
  const ring = p.createRing(256);
  const l = listenFromWasm(p, 4);
  const s = p.getSqe(ring);
  ok('prep-multishot-accept', p.prepMultishotAccept(s, l.fd, SOCK_NONBLOCK | SOCK_CLOEXEC));
  ok('sqe-set-data64', p.sqeSetData64(s, 1n));
  ok('submit', p.submit(ring));
  const client = await connect(l.port, '127.0.0.1');
  const acc = (await collect(p, ring, (all) => all.some((c) => c.userData === 1n && c.res >= 0)))
    .find((c) => c.userData === 1n && c.res >= 0)!;
  const fd = acc.res;
  const slab = p.slabCreate(4096);
  ok('slab-create', slab);
  const LEN = 16, N = 20_000, BATCH = 64;
  // The client reads between runs, so the socket buffers never fill.
  const drain = async (bytes: number) => {
    const end = Date.now() + 5000;
    while (client.received().length < bytes && Date.now() < end) await sleep(1);
  };
  let expected = 0;
  const run = async (q: Probe) => {
    const ns = timeNs(() => {
      const r = q.benchSendSeq(ring, fd, slab, LEN, N, BATCH);
      if (r !== BigInt(N)) throw new Error(`bench-send-seq = ${r}`);
    });
    expected += N * LEN;
    await drain(expected);
    return ns;
  };
  await run(pTimed); // warm up
  // Each run: the whole sequence timed from JS, and the submits inside it
  // timed in the host (the hrtime pair, ~1 ns per sequence, is in the total).
  const totals: number[] = [], subs: number[] = [], rest: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    submitNs = 0;
    submits = 0;
    const total = (await run(pTimed)) / N;
    totals.push(total);
    subs.push(submitNs / N);
    rest.push(total - submitNs / N);
  }
  const SEQ = 'get-sqe + prep-send + sqe-set-data64';
  row(SEQ, median(totals), `per sequence, incl. 1 submit + cq-ready + cq-advance per ${BATCH} (${LEN}-byte sends)`);
  row('of which submit (kernel send work)', median(subs),
    `${(median(subs) * BATCH / 1000).toFixed(1)} us per submit of ${BATCH} sends, timed in the host`, SEQ);
  row('the rest: the 3 host calls', median(rest), `+ cq-ready + cq-advance per ${BATCH}, same runs`, SEQ);
  if (client.received().length < expected) throw new Error(`client got ${client.received().length} of ${expected} bytes`);
  client.sock.destroy();
  ok('close', p.close(fd));
  ok('close', p.close(l.fd));
  ok('destroy-ring', p.destroyRing(ring));
  ok('slab-destroy', p.slabDestroy(slab));
}
await sendSeq();

const label = (r: Row) => (r.within === undefined ? r.name : `  ${r.name}`);
const w0 = Math.max(...rows.map((r) => label(r).length));
console.log(`bridge micro-benchmark (Wasm -> jco ${JCO} glue -> native backend), median of ${RUNS} runs`);
console.log(`${'host call'.padEnd(w0)}  ${'ns/call'.padStart(8)}  notes`);
for (const r of rows) console.log(`${label(r).padEnd(w0)}  ${r.ns.toFixed(1).padStart(8)}  ${r.notes}`);

const results = {
  date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  command: 'make bench-bridge',
  host_cpus: cpus().length,
  cpu: cpus()[0]?.model.trim() ?? '?',
  kernel: release(),
  node: process.version,
  jco: JCO,
  runs: RUNS,
  rows,
};
writeFileSync(OUT, `${JSON.stringify(results, null, 1)}\n`);
console.log(`wrote ${OUT}`);
