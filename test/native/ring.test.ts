// Ring lifecycle, submission and completion on real io_uring, called from JS.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { E, GETEVENTS, SETUP, addon, fdCount, parseCqes, ts } from './helpers.ts';
import type { RingInfo } from '../../bridge/native.ts';

const a = addon();
const fds0 = fdCount();

test('create-ring / get-ring-flags / destroy-ring', () => {
  const r = a.createRing(8);
  assert.ok(r > 0, `handle ${r}`);
  assert.is(a.getRingFlags(r), 0n);
  assert.is(a.destroyRing(r), 0);
  assert.is(a.destroyRing(r), -E.EBADF);
  assert.is(a.getRingFlags(r), BigInt(-E.EBADF));
  assert.is(a.createRing(0), -E.EINVAL);
  assert.is(a.createRing(65536), -E.EINVAL);
});

test('create-ring-ex: the flags asked for are the flags reported', () => {
  const cases: Array<[number, number, bigint]> = [
    [SETUP.SQPOLL, -1, BigInt(SETUP.SQPOLL)],
    [SETUP.SQPOLL, 0, BigInt(SETUP.SQPOLL | SETUP.SQ_AFF)],  // a cpu >= 0 pins the SQ thread
    [SETUP.SQPOLL | SETUP.SQ_AFF, 1, BigInt(SETUP.SQPOLL | SETUP.SQ_AFF)],
    [SETUP.SINGLE_ISSUER | SETUP.DEFER_TASKRUN, -1, BigInt(SETUP.SINGLE_ISSUER | SETUP.DEFER_TASKRUN)],
    [SETUP.COOP_TASKRUN, -1, BigInt(SETUP.COOP_TASKRUN)],
  ];
  for (const [flags, cpu, want] of cases) {
    const r = a.createRingEx(16, flags, cpu, 10);
    assert.ok(r > 0, `flags ${flags}: ${r}`);
    assert.is(a.getRingFlags(r), want, `flags ${flags}`);
    assert.is(a.destroyRing(r), 0);
  }
  assert.is(a.createRingEx(8, 0x1, -1, 0), -E.EINVAL, 'IOPOLL is not offered');
  assert.is(a.createRingEx(8, 0x80000000, -1, 0), -E.EINVAL, 'unknown bit');
  assert.is(a.createRingEx(8, SETUP.SQ_AFF, 0, 0), -E.EINVAL, 'SQ_AFF without SQPOLL');
  assert.is(a.createRingEx(8, SETUP.SQPOLL | SETUP.SQ_AFF, -1, 0), -E.EINVAL, 'SQ_AFF without a cpu');
  assert.is(a.createRingEx(8, SETUP.DEFER_TASKRUN, -1, 0), -E.EINVAL, 'DEFER_TASKRUN needs SINGLE_ISSUER');
});

test('NOPs: get-sqe, set-data64, submit, peek-batch-cqe, cqe-seen, cq-advance', () => {
  const r = a.createRing(8);
  for (const ud of [1n, 2n, 0xffff_ffff_ffff_fffen]) {
    const s = a.getSqe(r);
    assert.ok(s >= 0);
    assert.is(a.sqeSetData64(s, ud), 0);
  }
  assert.is(a.sqReady(r), 3);
  assert.is(a.cqReady(r), 0);
  assert.is(a.submit(r), 3);
  assert.is(a.sqReady(r), 0);
  assert.is(a.cqReady(r), 3);
  const two = a.peekBatchCqe(r, 2);
  assert.instance(two, Uint8Array);
  assert.is(two.byteLength, 32);
  assert.equal(parseCqes(two).map((c) => c.userData), [1n, 2n]);
  const all = parseCqes(a.peekBatchCqe(r, 64));  // not consumed by the first peek
  assert.equal(all, [
    { userData: 1n, res: 0, flags: 0 }, { userData: 2n, res: 0, flags: 0 },
    { userData: 0xffff_ffff_ffff_fffen, res: 0, flags: 0 }]);
  assert.is(a.cqeSeen(r), 0);
  assert.is(a.cqReady(r), 2);
  assert.is(a.cqAdvance(r, 3), -E.EINVAL, 'more than ready');
  assert.is(a.cqAdvance(r, 2), 0);
  assert.is(a.cqReady(r), 0);
  assert.is(a.cqeSeen(r), -E.EINVAL);
  assert.is(a.peekBatchCqe(r, 64).byteLength, 0);
  assert.is(a.peekBatchCqe(r, 0).byteLength, 0);
  const { live, userData, quarantined, bufRings, watched, cqeHashLookups, cqeSyscalls, cqeStale } = a.ringInfo(r) as RingInfo;
  assert.equal({ live, userData, quarantined, bufRings, watched }, { live: 0, userData: 0, quarantined: 0, bufRings: 0, watched: false });
  assert.equal({ cqeHashLookups, cqeSyscalls, cqeStale }, { cqeHashLookups: 0, cqeSyscalls: 0, cqeStale: 0 });
  a.destroyRing(r);
});

// A result is valid until the next peek of the env, as liburing's CQE pointers
// are until cq_advance: the guest's lowering copies it at once, and a buffer
// per batch only fed the GC.
test('peek-batch-cqe results share one scratch buffer until the next peek; a transferred result does not break the next', () => {
  const r = a.createRing(8);
  const nop = (ud: bigint): void => { a.sqeSetData64(a.getSqe(r), ud); a.submit(r); };
  nop(1n);
  const first = a.peekBatchCqe(r, 8);
  assert.equal(parseCqes(first).map((c) => c.userData), [1n]);
  a.cqAdvance(r, 1);
  nop(2n);
  const second = a.peekBatchCqe(r, 8);
  assert.equal(parseCqes(second).map((c) => c.userData), [2n]);
  assert.ok(first.buffer === second.buffer && second.byteOffset === 0, 'no new ArrayBuffer per batch');
  structuredClone(second.buffer, { transfer: [second.buffer] });  // detaches the scratch buffer
  assert.is(second.byteLength, 0);
  const third = a.peekBatchCqe(r, 8);
  assert.equal(parseCqes(third).map((c) => c.userData), [2n]);
  a.cqAdvance(r, 1);
  const empty = a.peekBatchCqe(r, 8);
  structuredClone(empty.buffer, { transfer: [empty.buffer] });
  const empty2 = a.peekBatchCqe(r, 8);
  assert.is(empty2.byteLength, 0);
  // what jco's glue does with a list<u8> result: throws on a detached buffer
  assert.ok(new Uint8Array(empty2.buffer, empty2.byteOffset, 0), 'a usable empty result after a transfer');
  a.destroyRing(r);
});

test('an SQE starts as a NOP with user-data 0; wait-cqe reads the head without consuming it', () => {
  const r = a.createRing(4);
  assert.ok(a.getSqe(r) >= 0);
  assert.is(a.submitAndWait(r, 1), 1);
  const w = a.waitCqe(r);
  assert.equal(w, { ret: 0, cqe: { userData: 0n, res: 0, flags: 0 } });
  assert.is(a.cqReady(r), 1);
  assert.equal(a.waitCqeTimeout(r, ts(10)), w);
  assert.is(a.cqeSeen(r), 0);
  a.destroyRing(r);
});

test('SQE handles: stale after submit, after destroy, and across a re-created ring', () => {
  const r = a.createRing(4);
  const s = a.getSqe(r);
  assert.is(a.sqeSetData64(s, 7n), 0);
  assert.is(a.submit(r), 1);
  assert.is(a.sqeSetData64(s, 8n), -E.EBADF, 'after submit');
  assert.is(a.prepCancel64(s, 1n, 0), -E.EBADF);
  assert.is(a.cqAdvance(r, 1), 0);
  const s2 = a.getSqe(r);
  assert.is.not(s2, s, 'the same slot comes back with a new epoch');
  assert.is(a.sqeSetData64(s2, 9n), 0);
  a.destroyRing(r);
  assert.is(a.sqeSetData64(s2, 9n), -E.EBADF, 'after destroy-ring');
  const r2 = a.createRing(4);
  assert.is(r2 & 63, r & 63, 'same table index reused');
  const s3 = a.getSqe(r2);
  assert.is(a.sqeSetData64(s2, 1n), -E.EBADF, 'old ring\'s handle on the new ring');
  assert.is(a.sqeSetData64(s3, 1n), 0);
  // enter() flushes too
  assert.is(a.enter(r2, 1, 0, 0, undefined), 1);
  assert.is(a.sqeSetData64(s3, 1n), -E.EBADF, 'after enter');
  a.destroyRing(r2);
});

test('SQEs flushed but never consumed do not pin slabs past destroy-ring', () => {
  const r = a.createRing(4);
  const slab = a.slabCreate(4096);
  const br = a.setupBufRing(r, 1, 1, 0);
  assert.is(a.bufRingAdd(br, slab, 0, 4096, 0, 0, 0), 0);
  a.sqeSetData64(a.getSqe(r), 1n);
  assert.is(a.enter(r, 0, 0, 0, undefined), 0, 'flushed, to-submit 0: the kernel takes nothing');
  assert.is(a.sqReady(r), 1);
  assert.is((a.ringInfo(r) as { live: number }).live, 1);
  assert.is(a.slabDestroy(slab), -E.EBUSY);
  assert.is(a.destroyRing(r), 0);
  assert.is(a.slabDestroy(slab), 0, 'the never-run SQE does not count as in flight');
});

test('get-sqe: -EBUSY when the SQ is full', () => {
  const r = a.createRing(4);
  for (let i = 0; i < 4; i++) assert.ok(a.getSqe(r) >= 0);
  assert.is(a.getSqe(r), -E.EBUSY);
  assert.is(a.sqReady(r), 4);
  assert.is(a.submit(r), 4);
  assert.ok(a.getSqe(r) >= 0);
  a.destroyRing(r);
});

test('timeouts give -ETIME', () => {
  const r = a.createRing(4);
  let t = Date.now();
  assert.equal(a.waitCqeTimeout(r, ts(20)), { ret: -E.ETIME, cqe: { userData: 0n, res: 0, flags: 0 } });
  assert.ok(Date.now() - t >= 15, 'waited');
  assert.is(a.waitCqes(r, 2, ts(10)).ret, -E.ETIME);
  t = Date.now();
  assert.is(a.submitAndWaitTimeout(r, 1, ts(20)), -E.ETIME);
  assert.ok(Date.now() - t >= 15);
  assert.is(a.enter(r, 0, 1, GETEVENTS, ts(10)), -E.ETIME);
  // One submitted, two awaited: liburing reports the submitted count.
  a.getSqe(r);
  assert.is(a.submitAndWaitTimeout(r, 2, ts(10)), 1);
  assert.is(a.cqReady(r), 1);
  assert.is(a.waitCqes(r, 1, ts(10)).ret, 0);
  // bad timespecs
  assert.is(a.waitCqeTimeout(r, { tvSec: 0n, tvNsec: 1_000_000_000n }).ret, -E.EINVAL);
  assert.is(a.waitCqes(r, 1, { tvSec: -1n, tvNsec: 0n }).ret, -E.EINVAL);
  assert.is(a.submitAndWaitTimeout(r, 1, { tvSec: 0n, tvNsec: -1n }), -E.EINVAL);
  assert.is(a.enter(r, 0, 1, GETEVENTS, { tvSec: 0n, tvNsec: -5n }), -E.EINVAL);
  assert.is(a.enter(r, 0, 0, 0x40, undefined), -E.EINVAL, 'unknown enter flag');
  a.destroyRing(r);
});

test('SQPOLL ring: a NOP completes without an enter', () => {
  const r = a.createRingEx(8, SETUP.SQPOLL, -1, 50);
  assert.ok(r > 0);
  const s = a.getSqe(r);
  a.sqeSetData64(s, 77n);
  assert.is(a.submit(r), 1);
  const w = a.waitCqeTimeout(r, ts(2000));
  assert.equal(w, { ret: 0, cqe: { userData: 77n, res: 0, flags: 0 } });
  a.destroyRing(r);
});

test('SINGLE_ISSUER|DEFER_TASKRUN ring: NOP round trip and enter(GETEVENTS)', () => {
  const r = a.createRingEx(8, SETUP.SINGLE_ISSUER | SETUP.DEFER_TASKRUN, -1, 0);
  assert.ok(r > 0);
  a.sqeSetData64(a.getSqe(r), 5n);
  assert.is(a.enter(r, 1, 1, GETEVENTS, ts(1000)), 1);
  assert.equal(parseCqes(a.peekBatchCqe(r, 8)), [{ userData: 5n, res: 0, flags: 0 }]);
  assert.is(a.cqAdvance(r, 1), 0);
  a.destroyRing(r);
});

test('many rings: the per-env table fills up with -EMFILE and recovers', () => {
  const rings: number[] = [];
  for (;;) {
    const r = a.createRing(2);
    if (r < 0) {
      assert.is(r, -24, 'EMFILE');
      break;
    }
    rings.push(r);
    assert.ok(rings.length <= 64);
  }
  assert.is(rings.length, 64);
  for (const r of rings) assert.is(a.destroyRing(r), 0);
  const r = a.createRing(2);
  assert.ok(r > 0);
  a.destroyRing(r);
});

test('no fd leaked by this file', () => {
  assert.is(fdCount(), fds0);
  assert.is(a.ownedFds(), 0);
});

test.run();
