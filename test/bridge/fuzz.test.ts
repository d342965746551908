// The randomized test: the probe guest makes >= 1,000,000 host calls with
// random, biased arguments (wasm/probe/zp_fuzz.c) against real io_uring, with
// real connections queued on a listener so that accepts, recvs and sends do
// real work. No crash, nothing the fuzzer can check came out wrong, and no fd
// leaked (/proc/self/fd before and after).
// It also aims at the sandbox's edges (issue 13): fds closed between prep and
// submit, unnamed AF_UNIX sockets (refused), one user-data for an accept and
// another kind (the flush is refused; the fuzzer re-tags), cancel-all of what
// is really in flight.
// FUZZ_SEED=<n> reproduces a run; FUZZ_CALLS=<n> changes its length;
// FUZZ_RUNS=<n> runs n seeds; FUZZ_CLIENTS=<n> queues n connections (`make fuzz`).
import { test } from 'uvu';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { big, connect, fdCount, hostImportNames, camel, listenFromWasm, loadProbe, sleep } from './probe.ts';
import type { Client } from './probe.ts';

const { backend, probe: p, counts, totalCalls } = loadProbe();
const CALLS = Number(process.env.FUZZ_CALLS ?? 1_000_000);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1);
const CLIENTS = Number(process.env.FUZZ_CLIENTS ?? 32);
const OPS = hostImportNames();

async function run(seed: bigint): Promise<void> {
  console.log(`fuzz seed ${seed} (FUZZ_SEED=${seed} reproduces)`);
  const fdsBefore = fdCount();
  const l = listenFromWasm(p, 4);
  // Queued connections with data already sent: the guest's accepts and recvs find them.
  const clients: Client[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const c = await connect(l.port, '127.0.0.1');
    c.sock.write(Buffer.alloc(100 + (i % 8) * 500, i));
    clients.push(c);
  }
  await sleep(20);
  const fdsAround = fdCount();
  const ownedAround = backend.ownedFds();
  const callsBefore = totalCalls();

  const t0 = Date.now();
  const rep = p.fuzz(seed, CALLS, l.fd);
  const ms = Date.now() - t0;
  const made = totalCalls() - callsBefore;
  console.log(`  ${made} host calls in ${ms} ms: ${JSON.stringify(rep, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))}`);

  assert.ok(made >= CALLS, `the guest made ${made} host calls`);
  assert.is(BigInt(made), rep.calls, 'the guest counted what the host saw');
  assert.is(rep.unexpected, 0n,
    `unexpected results: ${rep.unexpected}, first from ${OPS[rep.firstUnexpectedOp]} = ${rep.firstUnexpectedRet}`);
  assert.is(rep.openRings, 0, 'rings left open');
  assert.is(rep.openSlabs, 0, 'slabs left open');
  assert.is(rep.openFds, 0, 'fds the host still counts as the guest\'s');
  assert.ok(rep.ringsCreated > 0 && rep.cqes > 0n, 'the fuzzer did real work');
  assert.is(backend.ownedFds(), ownedAround, 'owned fds: only the listener');
  assert.is(fdCount(), fdsAround, '/proc/self/fd entries before and after the fuzzer');

  for (const c of clients) c.sock.destroy();
  assert.is(p.close(l.fd), 0);
  await sleep(50);
  assert.is(fdCount(), fdsBefore, '/proc/self/fd entries at the start and the end');
}

test('the fuzzer numbers its ops in host.wit order (its report names the import by that index)', () => {
  const h = readFileSync(fileURLToPath(new URL('../../wasm/probe/zp_fuzz.h', import.meta.url)), 'utf8');
  const body = /enum zp_op \{([^}]*)OP__COUNT/.exec(h)?.[1] ?? '';
  const ops = body.replace(/\/\*[^]*?\*\//g, '').split(',').map((x) => x.trim()).filter((x) => x.startsWith('OP_'));
  assert.is(ops.length, OPS.length, `${ops.length} fuzzer ops, ${OPS.length} host imports`);
  assert.is(ops.indexOf('OP_CLOSE'), OPS.indexOf('close'));
  assert.is(ops.indexOf('OP_PREP_RECV_SELECT'), OPS.indexOf('prep-recv-select'));
});

test(`${RUNS} x ${CALLS} random host calls from Wasm: no crash, no leak`, async () => {
  const seed = process.env.FUZZ_SEED !== undefined
    ? BigInt(process.env.FUZZ_SEED)
    : BigInt(Date.now()) * 1_000_003n + BigInt(process.pid);
  for (let i = 0; i < RUNS; i++) await run(seed + BigInt(i));
  const never = OPS.map(camel).filter((n) => !(counts.get(n)! > 0));
  assert.equal(never, [], `imports the fuzzer never called: ${never.join(', ')}`);
});

test.run();
