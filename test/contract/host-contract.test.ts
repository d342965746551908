// One table of host-import validation cases (docs/SECURITY.md's rules: bad
// handles, ranges, enter flags, timespecs, buffer-ring arguments, the socket
// and fcntl allow-lists), run against every Host implementation: the native
// helper (from JS, and from Wasm through the probe guest), the simulator and
// test/core's scripted host. Each case must give the same result on all of
// them, so the backends cannot drift apart; the test prints the table of
// cases x backends. The bad-input cases (every kind of wrong handle, range,
// fd and argument) are in bad-input-cases.ts, with the list of cases a
// backend cannot run and why.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Backend, Host } from '../../bridge/backend.ts';
import { createNativeBackend, nativeAvailable } from '../../bridge/native.ts';
import { createSimBackend } from '../../bridge/sim/index.ts';
import { ScriptedKernel } from '../core/scripted-host.ts';
import { fdCount, loadProbe } from '../bridge/probe.ts';
import { badInputCases, type BackendName, type Case, type Fixture } from './bad-input-cases.ts';
import { NotExpressible, probeHost } from './probe-host.ts';
import { queueCases } from './queue-cases.ts';

const EBADF = -9, EFAULT = -14, EINVAL = -22, EPERM = -1, EAFNOSUPPORT = -97;
const AF_INET = 2, AF_UNIX = 1, SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
const F_GETFD = 1, F_SETFD = 2;
const GETEVENTS = 1;
const MS = { tvSec: 0n, tvNsec: 1_000_000n };
const BOGUS = 0xdead;

const hostCases: Case[] = [
  // handles
  { name: 'get-sqe on an unknown ring', expect: EBADF, run: ({ h }) => h.getSqe(BOGUS) },
  { name: 'destroy-ring of an unknown ring', expect: EBADF, run: ({ h }) => h.destroyRing(BOGUS) },
  { name: 'submit on an unknown ring', expect: EBADF, run: ({ h }) => h.submit(BOGUS) },
  { name: 'enter on an unknown ring', expect: EBADF, run: ({ h }) => h.enter(BOGUS, 0, 0, 0, undefined) },
  { name: 'cq-advance on an unknown ring', expect: EBADF, run: ({ h }) => h.cqAdvance(BOGUS, 1) },
  { name: 'sqe-set-data64 on an unknown SQE', expect: EBADF, run: ({ h }) => h.sqeSetData64(BOGUS, 1n) },
  { name: 'prep-send on an unknown SQE', expect: EBADF, run: ({ h, fd, slab }) => h.prepSend(BOGUS, fd, slab, 0, 16, 0) },
  { name: 'an SQE handle after its submit', expect: EBADF, run: ({ h, ring, sqe }) => { h.submit(ring); return h.sqeSetData64(sqe, 1n); } },
  { name: 'slab-destroy of an unknown slab', expect: EBADF, run: ({ h }) => h.slabDestroy(BOGUS) },
  // ranges
  { name: 'prep-send past the slab end', expect: EFAULT, run: ({ h, sqe, fd, slab }) => h.prepSend(sqe, fd, slab, 4090, 16, 0) },
  { name: 'prep-send from an unknown slab', expect: EBADF, run: ({ h, sqe, fd }) => h.prepSend(sqe, fd, BOGUS, 0, 16, 0) },
  { name: 'prep-sendmsg with 65 ranges', expect: EINVAL, run: ({ h, sqe, fd, slab }) => h.prepSendmsg(sqe, fd, Array.from({ length: 65 }, () => ({ slab, offset: 0, len: 1 })), 0) },
  { name: 'slab-create of 0 bytes', expect: EINVAL, run: ({ h }) => h.slabCreate(0) },
  // flags and records
  { name: 'enter with an unknown flag', expect: EINVAL, run: ({ h, ring }) => h.enter(ring, 0, 0, 0x80, undefined) },
  { name: 'enter with tv_sec < 0', expect: EINVAL, run: ({ h, ring }) => h.enter(ring, 0, 1, GETEVENTS, { tvSec: -1n, tvNsec: 0n }) },
  { name: 'enter with tv_nsec = 1e9', expect: EINVAL, run: ({ h, ring }) => h.enter(ring, 0, 1, GETEVENTS, { tvSec: 0n, tvNsec: 1_000_000_000n }) },
  { name: 'submit-and-wait-timeout with tv_nsec < 0', expect: EINVAL, run: ({ h, ring }) => h.submitAndWaitTimeout(ring, 1, { tvSec: 0n, tvNsec: -1n }) },
  { name: 'cq-advance past the CQ', expect: EINVAL, run: ({ h, ring }) => h.cqAdvance(ring, 1) },
  { name: 'prep-send with MSG_OOB', expect: EINVAL, run: ({ h, sqe, fd, slab }) => h.prepSend(sqe, fd, slab, 0, 16, 0x1) },
  // buffer rings
  { name: 'setup-buf-ring on an unknown ring', expect: EBADF, run: ({ h }) => h.setupBufRing(BOGUS, 8, 0, 0) },
  { name: 'setup-buf-ring, entries not a power of two', expect: EINVAL, run: ({ h, ring }) => h.setupBufRing(ring, 3, 0, 0) },
  { name: 'setup-buf-ring, 65536 entries', expect: EINVAL, run: ({ h, ring }) => h.setupBufRing(ring, 65536, 0, 0) },
  { name: 'setup-buf-ring, group id > 0xffff', expect: EINVAL, run: ({ h, ring }) => h.setupBufRing(ring, 8, 0x10000, 0) },
  { name: 'setup-buf-ring, unknown flag', expect: EINVAL, run: ({ h, ring }) => h.setupBufRing(ring, 8, 0, 4) },
  // fds, sockets, fcntl (docs/SECURITY.md)
  { name: 'prep-send on an fd the guest never owned (0)', expect: EBADF, run: ({ h, sqe, slab }) => h.prepSend(sqe, 0, slab, 0, 16, 0) },
  { name: 'close of an fd the guest never owned (0)', expect: EBADF, run: ({ h }) => h.close(0) },
  { name: 'socket(AF_UNIX)', expect: EAFNOSUPPORT, run: ({ h }) => h.socket(AF_UNIX, SOCK_STREAM, 0) },
  { name: 'socket(SOCK_DGRAM)', expect: EINVAL, run: ({ h }) => h.socket(AF_INET, SOCK_DGRAM, 0) },
  { name: 'fcntl F_SETFD clearing FD_CLOEXEC', expect: EPERM, run: ({ h, fd }) => h.fcntl(fd, F_SETFD, 0n) },
  { name: 'fcntl with an unknown command', expect: EINVAL, run: ({ h, fd }) => h.fcntl(fd, 9999, 0n) },
  { name: 'fcntl on an fd the guest never owned (0)', expect: EBADF, run: ({ h }) => h.fcntl(0, F_GETFD, 0n) },
  { name: 'inet-pton with an unknown family', expect: EAFNOSUPPORT, run: ({ h }) => h.inetPton(99, '1.2.3.4').ret },
  ...queueCases,
];

interface Target { name: BackendName; h: Host; b: Backend }

const fds0 = fdCount();
const targets: Target[] = [];
if (nativeAvailable()) {
  const native = createNativeBackend();
  targets.push({ name: 'native', h: native.host, b: native });
  const wasm = loadProbe(false, createNativeBackend());
  targets.push({ name: 'wasm', h: probeHost(wasm.probe), b: wasm.backend });
}
{
  const sim = createSimBackend({ seed: 1 });
  targets.push({ name: 'sim', h: sim.host, b: sim });
  const k = new ScriptedKernel();
  targets.push({ name: 'scripted', h: k.host, b: k.backend });
}

const NOT_RUN = Symbol('not run');

async function runCase(t: Target, c: Case): Promise<number[] | typeof NOT_RUN> {
  if (c.skip?.[t.name] !== undefined) return NOT_RUN;
  const { h } = t;
  const ring = h.createRing(64);
  const fd = h.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const slab = h.slabCreate(4096);
  const sqe = h.getSqe(ring);
  assert.ok(ring > 0 && fd >= 0 && slab > 0 && sqe > 0, `${t.name}: fixture ${JSON.stringify({ ring, fd, slab, sqe })}`);
  const f: Fixture = { h, b: t.b, name: t.name, ring, fd, slab, sqe };
  try {
    const r = await c.run(f);
    return typeof r === 'number' ? [r] : r;
  } catch (err) {
    if (err instanceof NotExpressible) return NOT_RUN;
    throw err;
  } finally {
    h.destroyRing(ring);
    h.close(fd);
    h.slabDestroy(slab);
  }
}

/** One table cell: the value, `k×v` for a list of one value, `-` where the case does not run. */
function cell(r: number[] | typeof NOT_RUN): string {
  if (r === NOT_RUN) return '-';
  if (r.length === 1) return String(r[0]);
  return r.every((v) => v === r[0]) ? `${r.length}×${r[0]}` : `[${r.length}]`;
}

const table: string[][] = [];
for (const c of [...hostCases, ...badInputCases]) {
  const row = [c.name];
  table.push(row);
  const want = typeof c.expect === 'number' ? [c.expect] : c.expect;
  test(`contract: ${c.name} -> ${cell(want)}`, async () => {
    const got: (number[] | typeof NOT_RUN)[] = [];
    for (const t of targets) got.push(await runCase(t, c));
    row.push(...got.map(cell));
    targets.forEach((t, i) => { if (c.differs?.[t.name] !== undefined) row[i + 1] += '!'; });
    const ran = targets.map((t, i) => [t.name, got[i]!] as const).filter(([, r]) => r !== NOT_RUN);
    assert.ok(ran.length > 0, 'runs somewhere');
    for (const [name, r] of ran) {
      const known = c.differs?.[name];
      const exp = known === undefined ? want : typeof known.got === 'number' ? [known.got] : known.got;
      assert.equal(r, exp, `${name}: ${JSON.stringify(r)}${known ? ` (known difference: ${known.why}; fixed? drop the entry)` : ''}`);
    }
  });
}

test('every backend ran; nothing leaked', () => {
  // the native helper is part of the contract on Linux: without it this suite would only compare two test doubles
  assert.equal(targets.map((t) => t.name), ['native', 'wasm', 'sim', 'scripted'], 'native helper unavailable');
  for (const t of targets) assert.is(t.b.ownedFds(), 0, `${t.name}: fds still owned`);
  assert.is(fdCount(), fds0, 'process fds');
  const w = Math.max(...table.map((r) => r[0]!.length));
  console.log(`\n  ${'case'.padEnd(w)}${targets.map((t) => t.name.padStart(10)).join('')}`);
  for (const r of table) console.log(`  ${r[0]!.padEnd(w)}${r.slice(1).map((v) => v.padStart(10)).join('')}`);
});

test.run();
