// One table of host-import validation cases (docs/SECURITY.md's rules: bad
// handles, ranges, enter flags, timespecs, buffer-ring arguments, the socket
// and fcntl allow-lists), run against every Host implementation: the native
// helper, the simulator and test/core's scripted host. Each case must give
// the same result on all three, so the backends cannot drift apart; the test
// prints the table of cases x backends.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Host } from '../../bridge/backend.ts';
import { createNativeBackend, nativeAvailable } from '../../bridge/native.ts';
import { createSimBackend } from '../../bridge/sim/index.ts';
import { ScriptedKernel } from '../core/scripted-host.ts';
import { queueCases } from './queue-cases.ts';

const EBADF = -9, EFAULT = -14, EINVAL = -22, EPERM = -1, EAFNOSUPPORT = -97;
const AF_INET = 2, AF_UNIX = 1, SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
const F_GETFD = 1, F_SETFD = 2;
const GETEVENTS = 1;
const MS = { tvSec: 0n, tvNsec: 1_000_000n };
const BOGUS = 0xdead;

/** What each case gets: a live ring, a guest socket, a 4 KiB slab and an unsubmitted SQE. */
interface Fixture { h: Host; ring: number; fd: number; slab: number; sqe: number }

interface Case { name: string; expect: number; run: (f: Fixture) => number }

const cases: Case[] = [
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

interface Backend { name: string; open: () => { h: Host; done: () => void } }

const backends: Backend[] = [
  { name: 'sim', open: () => ({ h: createSimBackend({ seed: 1 }).host, done: () => {} }) },
  { name: 'scripted', open: () => ({ h: new ScriptedKernel().host, done: () => {} }) },
];
if (nativeAvailable()) {
  const native = createNativeBackend();
  backends.unshift({ name: 'native', open: () => ({ h: native.host, done: () => {} }) });
}

function runCase(b: Backend, c: Case): number {
  const { h, done } = b.open();
  const ring = h.createRing(8);
  const fd = h.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const slab = h.slabCreate(4096);
  const sqe = h.getSqe(ring);
  assert.ok(ring > 0 && fd >= 0 && slab > 0 && sqe > 0, `${b.name}: fixture ${JSON.stringify({ ring, fd, slab, sqe })}`);
  try {
    return c.run({ h, ring, fd, slab, sqe });
  } finally {
    h.destroyRing(ring);
    h.close(fd);
    h.slabDestroy(slab);
    done();
  }
}

const table: string[][] = [];
for (const c of cases) {
  const row = [c.name];
  table.push(row);
  test(`contract: ${c.name} -> ${c.expect}`, () => {
    const got = backends.map((b) => runCase(b, c));
    row.push(...got.map(String));
    assert.equal(got, backends.map(() => c.expect), backends.map((b, i) => `${b.name}=${got[i]}`).join(' '));
  });
}

test('every backend ran', () => {
  // the native helper is part of the contract on Linux: without it this suite would only compare two test doubles
  assert.equal(backends.map((b) => b.name), ['native', 'sim', 'scripted'], 'native helper unavailable');
  const w = Math.max(...table.map((r) => r[0]!.length));
  console.log(`\n  ${'case'.padEnd(w)}${backends.map((b) => b.name.padStart(10)).join('')}`);
  for (const r of table) console.log(`  ${r[0]!.padEnd(w)}${r.slice(1).map((v) => v.padStart(10)).join('')}`);
});

test.run();
