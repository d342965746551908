// Unit tests of the simulated kernel, driven through the Host interface
// directly (no Wasm core): the io_uring and TCP semantics the simulator
// promises, one behaviour per test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSimBackend } from '../../bridge/sim/index.ts';
import { F_BUF_MORE, F_BUFFER, F_MORE, armAccept, armRecv, bytesOf, rig, text } from './helpers.ts';

const EBADF = -9, EINVAL = -22, EFAULT = -14, EBUSY = -16, ENOBUFS = -105, ECANCELED = -125, ENOENT = -2,
  EALREADY = -114, ETIME = -62, ECONNRESET = -104, EPIPE = -32, EMFILE = -24;

function acceptOne(r: ReturnType<typeof rig>, n = 1): number[] {
  const cs = Array.from({ length: n }, () => r.sim.client());
  for (const c of cs) c.connect(r.port);
  const cqes = r.settle();
  return cqes.filter((c) => c.ud === 0x100n).map((c) => c.res);
}

test('multishot accept: F_MORE on each CQE, fds lowest-free, reused after close', () => {
  const r = rig();
  armAccept(r);
  const fds = acceptOne(r, 3);
  assert.equal(fds.length, 3);
  const sorted = [...fds].sort((a, b) => a - b);
  // stdio 0-2, ring fd + eventfd 3-4, listener 5: accepted fds are 6, 7, 8
  assert.equal(sorted, [6, 7, 8]);
  const h = r.sim.host;
  assert.is(h.close(7), 0);
  assert.is(h.close(7), EBADF, 'double close is EBADF');
  const again = acceptOne(r, 1);
  assert.equal(again, [7], 'the lowest free fd is reused');
  assert.is(r.sim.ownedFds(), 4);
});

test('accept CQEs carry F_MORE and the multishot keeps going', () => {
  const r = rig();
  armAccept(r);
  r.sim.client().connect(r.port);
  r.sim.client().connect(r.port);
  r.sim.host.submit(r.ring);
  r.sim.run();
  const c = r.reap();
  assert.is(c.length, 2);
  for (const x of c) assert.ok((x.flags & F_MORE) !== 0);
  assert.is(r.sim.kernel.inflight().filter((o) => o.opcode === 'accept').length, 1);
});

test('multishot recv with buffer selection: bid in flags >> 16, F_BUFFER, bytes in the slab', () => {
  const r = rig();
  armAccept(r);
  const c = r.sim.client();
  c.connect(r.port);
  const [fd] = acceptOne(r, 0).concat(r.settle().filter((x) => x.ud === 0x100n).map((x) => x.res));
  assert.ok(fd !== undefined && fd > 0);
  armRecv(r, fd!, 0x200n);
  r.settle();
  c.write(bytesOf('hello'));
  const cq = r.settle();
  assert.is(cq.length, 1);
  const e = cq[0]!;
  assert.is(e.ud, 0x200n);
  assert.is(e.res, 5);
  assert.ok((e.flags & F_BUFFER) !== 0 && (e.flags & F_MORE) !== 0);
  const bid = e.flags >>> 16;
  assert.is(r.sim.host.cqeBufferId({ userData: e.ud, res: e.res, flags: e.flags }), bid);
  assert.is(text(r.bytes(bid, 0, 5)), 'hello');
});

function connected(r: ReturnType<typeof rig>, opts = {}): { c: ReturnType<ReturnType<typeof rig>['sim']['client']>; fd: number } {
  armAccept(r);
  const c = r.sim.client(opts);
  c.connect(r.port);
  const fd = r.settle().find((x) => x.ud === 0x100n)!.res;
  return { c, fd };
}

test('ENOBUFS: an empty buffer ring ends the multishot recv (no F_MORE); re-arm loses no byte', () => {
  const r = rig({ bufEntries: 2, bufSize: 4 });
  const { c, fd } = connected(r);
  armRecv(r, fd, 0x200n);
  r.settle();
  const msg = 'abcdefghijklmnop'; // 16 bytes, 2 buffers of 4
  c.write(bytesOf(msg));
  let cq = r.settle();
  const data = cq.filter((x) => x.res > 0);
  assert.is(data.length, 2);
  const last = cq[cq.length - 1]!;
  assert.is(last.res, ENOBUFS);
  assert.is(last.flags & F_MORE, 0, 'ENOBUFS ends the multishot');
  assert.is(r.sim.kernel.inflight().filter((o) => o.opcode === 'recv').length, 0);
  let got = data.map((x) => text(r.bytes(x.flags >>> 16, 0, x.res))).join('');
  // nothing more arrives while not re-armed
  c.write(bytesOf('Q'));
  assert.is(r.settle().length, 0);
  // give the buffers back one by one, re-arming after each ENOBUFS
  for (let round = 0; round < 20 && got.length < 17; round++) {
    r.give([0, 1]);
    armRecv(r, fd, 0x200n);
    cq = r.settle();
    for (const x of cq) if (x.res > 0) got += text(r.bytes(x.flags >>> 16, 0, x.res));
  }
  assert.is(got, msg + 'Q');
});

test('ENOBUFS at issue time when the ring is empty, even with no data', () => {
  const r = rig({ noBuffers: true });
  const { fd } = connected(r);
  armRecv(r, fd, 0x200n);
  const cq = r.settle();
  assert.equal(cq, [{ ud: 0x200n, res: ENOBUFS, flags: 0 }]);
});

test('incremental consumption: F_BUF_MORE while the buffer has room, offsets advance', () => {
  const r = rig({ bufEntries: 2, bufSize: 10, inc: true });
  const { c, fd } = connected(r, {});
  armRecv(r, fd, 0x200n);
  r.settle();
  const parts: { bid: number; res: number; more: boolean }[] = [];
  for (const s of ['abc', 'defg', 'hij', 'klm']) {
    c.write(bytesOf(s));
    for (const x of r.settle()) parts.push({ bid: x.flags >>> 16, res: x.res, more: (x.flags & F_BUF_MORE) !== 0 });
  }
  // buffer 0 gets abc (3) defg (4) hij (3 = full, no BUF_MORE); buffer 1 gets klm
  assert.equal(parts.map((p) => p.bid), [0, 0, 0, 1]);
  assert.equal(parts.map((p) => p.more), [true, true, false, true]);
  assert.is(text(r.bytes(0, 0, 10)), 'abcdefghij');
  assert.is(text(r.bytes(1, 0, 3)), 'klm');
});

test('short sends: a slow reader with a small window gets partial send results', () => {
  const r = rig({ serverWindow: [65536, 65536] });
  const { c, fd } = connected(r, { rcvCap: 1000, autoRead: false });
  const h = r.sim.host;
  const big = h.slabCreate(5000);
  const s = r.sqe();
  assert.is(h.prepSend(s, fd, big, 0, 5000, 0), 0);
  h.sqeSetData64(s, 0x300n);
  const cq = r.settle();
  assert.equal(cq, [{ ud: 0x300n, res: 1000, flags: 0 }]);
  assert.is(c.read()!.length, 1000);
  // the fault knob: short sends even with room
  const r2 = rig({ faults: { shortSend: 1 } });
  const k = connected(r2);
  const big2 = r2.sim.host.slabCreate(100);
  const s2 = r2.sqe();
  r2.sim.host.prepSend(s2, k.fd, big2, 0, 100, 0);
  r2.sim.host.sqeSetData64(s2, 1n);
  const res = r2.settle()[0]!.res;
  assert.ok(res > 0 && res < 100, `short send ${res}`);
});

test('sendmsg gathers slab ranges in order; MSG_WAITALL completes the whole length', () => {
  const r = rig();
  const { c, fd } = connected(r, { rcvCap: 7, readDelay: [5000, 5000], readChunk: [3, 3] });
  const h = r.sim.host;
  const sl = h.slabCreate(26);
  new Uint8Array(r.sim.slabBuffer(sl)).set(bytesOf('abcdefghijklmnopqrstuvwxyz'));
  let got = '';
  c.onData = (b) => (got += text(b));
  const s = r.sqe();
  assert.is(h.prepSendmsg(s, fd, [{ slab: sl, offset: 20, len: 6 }, { slab: sl, offset: 0, len: 10 }], 0x100), 0);
  h.sqeSetData64(s, 0x400n);
  const cq = r.settle();
  assert.equal(cq, [{ ud: 0x400n, res: 16, flags: 0 }]);
  assert.is(got, 'uvwxyzabcdefghij');
});

test('cancel64: target -ECANCELED without F_MORE, cancel 0; unknown -ENOENT; completing -EALREADY', () => {
  const r = rig();
  const { fd } = connected(r);
  armRecv(r, fd, 0x200n);
  r.settle();
  const h = r.sim.host;
  let s = r.sqe();
  h.prepCancel64(s, 0x200n, 0);
  h.sqeSetData64(s, 0x500n);
  let cq = r.settle();
  const t = cq.find((x) => x.ud === 0x200n)!;
  const k = cq.find((x) => x.ud === 0x500n)!;
  assert.equal([t.res, t.flags & F_MORE, k.res], [ECANCELED, 0, 0]);
  s = r.sqe();
  h.prepCancel64(s, 0x200n, 0);
  h.sqeSetData64(s, 0x501n);
  cq = r.settle();
  assert.equal(cq, [{ ud: 0x501n, res: ENOENT, flags: 0 }]);
  // a request whose completion is already on its way cannot be cancelled
  const r2 = rig({ faults: { completionDelay: 1 } });
  const k2 = connected(r2);
  const sl = r2.sim.host.slabCreate(8);
  const s2 = r2.sqe();
  r2.sim.host.prepSend(s2, k2.fd, sl, 0, 8, 0);
  r2.sim.host.sqeSetData64(s2, 0x600n);
  r2.sim.host.submit(r2.ring);
  const s3 = r2.sqe();
  r2.sim.host.prepCancel64(s3, 0x600n, 0);
  r2.sim.host.sqeSetData64(s3, 0x601n);
  const cq2 = r2.settle();
  assert.equal(cq2.find((x) => x.ud === 0x601n)!.res, EALREADY);
  assert.equal(cq2.find((x) => x.ud === 0x600n)!.res, 8);
});

test('cancel may complete before its target (cancelLate): both CQEs still arrive', () => {
  const r = rig({ faults: { cancelLate: 1 } });
  const { fd } = connected(r);
  armRecv(r, fd, 0x200n);
  r.settle();
  const s = r.sqe();
  r.sim.host.prepCancel64(s, 0x200n, 0);
  r.sim.host.sqeSetData64(s, 0x500n);
  const cq = r.settle();
  assert.equal(cq.map((x) => [x.ud, x.res]), [[0x500n, 0], [0x200n, ECANCELED]]);
});

test('CQ overflow: backlog kept in order, multishot ended by a full CQ, flushed on submit/peek', () => {
  const r = rig({ cqEntries: 2 });
  armAccept(r);
  const h = r.sim.host;
  h.submit(r.ring);
  for (let i = 0; i < 5; i++) r.sim.client().connect(r.port);
  r.sim.run();
  assert.is(h.cqReady(r.ring), 2, 'the ring holds 2');
  const ring = r.sim.kernel.ring(r.ring)!;
  // the 3rd accept could not post with F_MORE: it ends the multishot through the backlog
  assert.is(ring.overflow.length, 1);
  assert.is(r.sim.kernel.inflight().filter((o) => o.opcode === 'accept').length, 0);
  const first = r.reap();
  assert.is(first.length, 3, 'a peek on an empty CQ flushes the backlog');
  assert.equal(first.map((x) => x.flags & F_MORE), [F_MORE, F_MORE, 0]);
  assert.equal(first.map((x) => x.res), [6, 7, 8]);
  // re-arm: the 2 still queued connections come in
  armAccept(r);
  const rest = r.settle();
  assert.equal(rest.map((x) => x.res), [9, 10]);
});

test('backlog flushed by submit (liburing enters with GETEVENTS when the overflow flag is up)', () => {
  const r = rig({ cqEntries: 2 });
  const h = r.sim.host;
  for (let i = 0; i < 4; i++) {
    const s = r.sqe();
    h.sqeSetData64(s, BigInt(i));
  }
  h.submit(r.ring); // 4 NOPs: 2 in the ring, 2 in the backlog
  assert.is(h.cqReady(r.ring), 2);
  assert.is(h.cqAdvance(r.ring, 2), 0);
  assert.is(h.cqReady(r.ring), 0, 'freeing space does not flush by itself');
  h.submit(r.ring);
  assert.is(h.cqReady(r.ring), 2);
  assert.is(h.cqAdvance(r.ring, 3), EINVAL, 'advance past the ready count');
});

test('handles and ranges are validated: stale SQE, bad slab range, bid >= entries, unowned fd', () => {
  const r = rig();
  const h = r.sim.host;
  const s = r.sqe();
  h.submit(r.ring);
  assert.is(h.sqeSetData64(s, 1n), EBADF, 'SQE handle is spent after submit');
  assert.is(h.prepSend(s, r.lfd, r.slab, 0, 1, 0), EBADF);
  const s2 = r.sqe();
  assert.is(h.prepSend(s2, r.lfd, r.slab, 0, 1 << 20, 0), EFAULT);
  assert.is(h.prepSend(s2, r.lfd, 999, 0, 1, 0), EBADF);
  assert.is(h.prepSend(s2, 1, r.slab, 0, 1, 0), EBADF, 'stdout is not the guest\'s');
  assert.is(h.prepSend(s2, r.sim.kernel.ring(r.ring)!.fd, r.slab, 0, 1, 0), EBADF, 'the ring fd is not the guest\'s');
  assert.is(h.bufRingAdd(r.br, r.slab, 0, 8, r.entries, r.entries - 1, 0), EINVAL);
  assert.is(h.bufRingAdd(r.br, r.slab, 0, 8, 0, 3, 0), EINVAL, 'wrong mask');
  assert.is(h.bufRingAdd(r.br, r.slab, 1 << 20, 8, 0, r.entries - 1, 0), EFAULT);
  assert.is(h.getSqe(99), EBADF);
  assert.is(h.peekBatchCqe(99, 4).length, 0);
  assert.is(h.cqeBufferId({ userData: 0n, res: 0, flags: 0 }), EINVAL);
  assert.is(h.createRingEx(8, 0x40000000, -1, 0), EINVAL, 'unknown setup flag');
  assert.is(h.createRingEx(8, 1 << 13, -1, 0), EINVAL, 'DEFER_TASKRUN needs SINGLE_ISSUER');
  assert.is(h.getRingFlags(99), -9n);
  assert.is(h.slabDestroy(r.slab), EBUSY, 'published buffers point into it');
  for (let i = 0; i < 7; i++) r.sqe();
  assert.is(h.getSqe(r.ring), EBUSY, 'SQ full');
});

test('an fd closed between prep and submit: its SQE goes out as a NOP that posts no CQE (as natively)', () => {
  const r = rig();
  const { fd } = connected(r);
  armRecv(r, fd, 0x200n);
  r.sim.host.close(fd);
  assert.equal(r.settle(), []);
});

test('close(fd) does not stop an armed recv: late CQEs after the fd is reused', () => {
  const r = rig();
  const a = connected(r);
  armRecv(r, a.fd, 0xa00n);
  r.settle();
  const h = r.sim.host;
  h.close(a.fd);
  a.c.write(bytesOf('late'));
  const b = r.sim.client();
  b.connect(r.port);
  const cq = r.settle();
  const acc = cq.find((x) => x.ud === 0x100n)!;
  assert.is(acc.res, a.fd, 'the new connection reuses the fd');
  const late = cq.find((x) => x.ud === 0xa00n)!;
  assert.is(late.res, 4, 'the old request still delivers');
  assert.is(text(r.bytes(late.flags >>> 16, 0, 4)), 'late');
  // the old socket is alive until the request is cancelled; then the client sees FIN
  assert.not.ok(a.c.eof);
  const s = r.sqe();
  h.prepCancel64(s, 0xa00n, 0);
  h.sqeSetData64(s, 0xa01n);
  r.settle();
  assert.ok(a.c.eof || a.c.error === -ECONNRESET, 'the client sees the close once the request lets go');
});

test('EOF: recv res 0 without F_MORE and without a buffer; reset: -ECONNRESET then send -EPIPE', () => {
  const r = rig();
  const a = connected(r);
  armRecv(r, a.fd, 0x200n);
  r.settle();
  a.c.write(bytesOf('xy'));
  a.c.shutdownWrite();
  const cq = r.settle();
  assert.equal(cq.map((x) => x.res), [2, 0]);
  assert.equal(cq[1]!.flags, 0);
  const b = connected(r);
  armRecv(r, b.fd, 0x201n);
  r.settle();
  b.c.reset();
  const cq2 = r.settle();
  assert.equal(cq2, [{ ud: 0x201n, res: ECONNRESET, flags: 0 }]);
  const sl = r.sim.host.slabCreate(4);
  const s = r.sqe();
  r.sim.host.prepSend(s, b.fd, sl, 0, 4, 0);
  r.sim.host.sqeSetData64(s, 0x202n);
  assert.equal(r.settle(), [{ ud: 0x202n, res: EPIPE, flags: 0 }]);
});

test('a server socket closed with unread data resets the client', () => {
  const r = rig();
  const a = connected(r);
  a.c.write(bytesOf('unread'));
  r.sim.run();
  r.sim.host.close(a.fd);
  r.sim.run();
  assert.is(a.c.error, 104);
});

test('wait-cqe-timeout advances virtual time only and returns -ETIME', () => {
  const r = rig();
  const t0 = r.sim.world.now;
  const w = r.sim.host.waitCqeTimeout(r.ring, { tvSec: 2n, tvNsec: 500n });
  assert.is(w.ret, ETIME);
  assert.is(r.sim.world.now - t0, 2_000_000_500);
  // a client that writes later completes the wait before the deadline
  const a = connected(r);
  armRecv(r, a.fd, 0x200n);
  r.sim.host.submit(r.ring);
  r.sim.world.after(1_000_000, () => a.c.write(bytesOf('z')));
  const t1 = r.sim.world.now;
  const w2 = r.sim.host.waitCqeTimeout(r.ring, { tvSec: 5n, tvNsec: 0n });
  assert.is(w2.ret, 0);
  assert.is(w2.cqe.res, 1);
  assert.ok(r.sim.world.now - t1 < 5_000_000_000);
  assert.is(r.sim.host.cqeSeen(r.ring), 0);
  assert.is(r.sim.host.cqeSeen(r.ring), EINVAL);
});

test('submit-and-wait-timeout / enter / wait-cqes: virtual time, -ETIME only with an empty CQ', () => {
  const r = rig();
  const h = r.sim.host;
  const t0 = r.sim.world.now;
  assert.is(h.submitAndWaitTimeout(r.ring, 1, { tvSec: 0n, tvNsec: 1_000_000n }), ETIME);
  assert.is(r.sim.world.now - t0, 1_000_000);
  assert.is(h.enter(r.ring, 0, 1, 1, { tvSec: 0n, tvNsec: 500n }), ETIME);
  assert.is(h.enter(r.ring, 0, 1, 1 << 5, undefined), EINVAL, 'unknown enter flag');
  assert.is(h.submitAndWaitTimeout(r.ring, 1, { tvSec: 0n, tvNsec: 2_000_000_000n }), EINVAL, 'tv_nsec >= 1e9');
  // one NOP ready, asked for 3: at the deadline the kernel reports success
  const s = r.sqe();
  h.sqeSetData64(s, 5n);
  const w = h.submitAndWaitTimeout(r.ring, 3, { tvSec: 0n, tvNsec: 1000n });
  assert.is(w, 1);
  const wc = h.waitCqes(r.ring, 3, { tvSec: 0n, tvNsec: 1000n });
  assert.is(wc.ret, 0);
  assert.is(wc.cqe.userData, 5n);
  assert.is(h.cqReady(r.ring), 1, 'wait does not consume');
});

test('a blocking wait that can never return is a violation, not a hang', () => {
  const r = rig();
  const w = r.sim.host.waitCqe(r.ring);
  assert.is(w.ret, -4);
  assert.ok(r.sim.world.violations.some((v) => v.message.includes('can never return')));
});

test('DEFER_TASKRUN: completions from wake-ups appear only after a GETEVENTS enter', () => {
  const r = rig({ ringFlags: (1 << 12) | (1 << 13) });
  const a = connected(r);
  armRecv(r, a.fd, 0x200n);
  r.settle();
  a.c.write(bytesOf('abc'));
  r.sim.run();
  assert.is(r.sim.host.cqReady(r.ring), 0, 'not visible yet');
  r.sim.host.submit(r.ring);
  assert.is(r.sim.host.cqReady(r.ring), 0, 'plain submit does not run task work');
  r.sim.host.enter(r.ring, 0, 0, 1, undefined);
  assert.is(r.sim.host.cqReady(r.ring), 1);
});

test('watch fires on CQEs (app events), not inside host calls', () => {
  const r = rig();
  let wakes = 0;
  const stop = r.sim.watch(r.ring, () => wakes++);
  const a = connected(r);
  assert.ok(wakes >= 1);
  armRecv(r, a.fd, 0x200n);
  r.sim.host.submit(r.ring);
  const before = wakes;
  a.c.write(bytesOf('q'));
  r.sim.run();
  assert.ok(wakes > before);
  stop();
  a.c.write(bytesOf('q'));
  const n = wakes;
  r.sim.run();
  assert.is(wakes, n);
});

test('EMFILE past the fd limit ends the multishot accept; the connection stays queued', () => {
  const r = rig({ fdLimit: 7 });
  armAccept(r);
  r.sim.client().connect(r.port);
  r.sim.client().connect(r.port);
  const cq = r.settle();
  assert.equal(cq.map((x) => [x.res, x.flags & F_MORE]), [[6, F_MORE], [EMFILE, 0]]);
  r.sim.host.close(6);
  armAccept(r);
  assert.equal(r.settle().map((x) => x.res), [6]);
});

test('buffer ring misuse is reported as a violation (bid published twice)', () => {
  const r = rig({ bufEntries: 4 });
  // all 4 are published; publishing bid 0 again would let the kernel hand it out twice
  r.sim.host.bufRingAdd(r.br, r.slab, 0, 8, 0, 3, 0);
  r.sim.host.bufRingAdvance(r.br, 1);
  assert.ok(r.sim.world.violations.length >= 1);
});

test('sockets: bind conflicts, ephemeral ports, getpeername, setsockopt, fcntl, shutdown', () => {
  const sim = createSimBackend({ seed: 3 });
  const h = sim.host;
  const a = h.socket(2, 1 | 0x800, 0);
  assert.is(h.fcntl(a, 3, 0n) & 0x800, 0x800);
  assert.is(h.setsockopt(a, 1, 2, 1), 0);
  assert.is(h.setsockopt(a, 6, 1, 1), 0);
  assert.is(h.setsockopt(a, 1, 12345, 1), -92);
  assert.is(h.bind(a, { port: 5000, addr: 0x7f000001 }), 0);
  const b = h.socket(2, 1, 0);
  assert.is(h.bind(b, { port: 5000, addr: 0 }), -98);
  assert.is(h.bind(b, { port: 5000, addr: 0x08080808 }), -99);
  assert.is(h.listen(a, 4), 0);
  assert.is(h.getpeername(a).ret, -107);
  assert.is(h.shutdown(b, 1), -107);
  assert.is(h.socket(1, 1, 0), -97);
  const v6 = h.socket(10, 1, 0);
  assert.is(h.bind6(v6, { port: 0, flowinfo: 0, hi: 0n, lo: 0n, scopeId: 0 }), 0);
  assert.is(h.getsockname(v6).family, 10);
  assert.ok(h.getsockname(v6).port >= 32768);
  assert.is(h.pinCurrentThreadToCpu(0), 0);
  assert.is(h.pinCurrentThreadToCpu(64), EINVAL);
});

test('inet-pton: v4 and v6 as data, glibc strictness', () => {
  const h = createSimBackend({ seed: 1 }).host;
  assert.equal(h.inetPton(2, '127.0.0.1'), { ret: 1, family: 2, port: 0, hi: 0n, lo: 0x7f000001n });
  assert.is(h.inetPton(2, '127.0.0.01').ret, 0);
  assert.is(h.inetPton(2, '256.0.0.1').ret, 0);
  assert.is(h.inetPton(2, 'localhost').ret, 0);
  assert.equal(h.inetPton(10, '::1'), { ret: 1, family: 10, port: 0, hi: 0n, lo: 1n });
  assert.equal(h.inetPton(10, '::ffff:127.0.0.1').lo, 0xffff7f000001n);
  assert.equal(h.inetPton(10, '2001:db8::8:800:200c:417a').hi, 0x20010db800000000n);
  assert.is(h.inetPton(10, '1::2::3').ret, 0);
  assert.is(h.inetPton(99, 'x').ret, -97);
});

test('destroy-ring drops requests, frees the ring and event fds and lets sockets close', () => {
  const r = rig();
  const a = connected(r);
  armRecv(r, a.fd, 0x200n);
  r.settle();
  const open = r.sim.kernel.openFdCount();
  r.sim.host.close(a.fd);
  assert.is(r.sim.host.destroyRing(r.ring), 0);
  assert.is(r.sim.kernel.openFdCount(), open - 3);
  assert.is(r.sim.kernel.inflight().length, 0);
  r.sim.run();
  assert.ok(a.c.eof);
  assert.is(r.sim.host.destroyRing(r.ring), EBADF);
});

test('an accepted fd is the guest\'s once its CQE is read; dropped unread, it is closed', () => {
  const r = rig();
  armAccept(r);
  r.sim.client().connect(r.port);
  r.sim.host.submit(r.ring);
  r.sim.run();
  const owned = r.sim.ownedFds();
  assert.is(r.sim.kernel.ownedFdList().includes(6), false, 'not owned before the guest saw the CQE');
  assert.is(r.sim.host.close(6), EBADF);
  const cq = r.reap();
  assert.is(cq[0]!.res, 6);
  assert.is(r.sim.ownedFds(), owned + 1);
  // a second one, advanced over without reading: closed by the host
  const c = r.sim.client();
  c.connect(r.port);
  r.sim.run();
  assert.is(r.sim.host.cqReady(r.ring), 1);
  assert.is(r.sim.host.cqAdvance(r.ring, 1), 0);
  assert.is(r.sim.ownedFds(), owned + 1);
  r.sim.run();
  assert.ok(c.eof, 'the unread connection was closed');
});

test('buffer ring rules: zero length, idx >= entries, advance of unwritten slots are EINVAL', () => {
  const r = rig({ bufEntries: 4, noBuffers: true });
  const h = r.sim.host;
  assert.is(h.bufRingAdd(r.br, r.slab, 0, 0, 0, 3, 0), EINVAL);
  assert.is(h.bufRingAdd(r.br, r.slab, 0, 8, 0, 3, 4), EINVAL);
  assert.is(h.bufRingAdd(r.br, r.slab, 0, 8, 0, 3, 0), 0);
  assert.is(h.bufRingAdvance(r.br, 2), EINVAL, 'slot 1 was never written');
  assert.is(h.bufRingAdvance(r.br, 5), EINVAL);
  assert.is(h.bufRingAdvance(r.br, 1), 0);
  assert.is(h.bufRingAdvance(r.br, 1), EINVAL, 'nothing new to publish');
  const s = r.sqe();
  assert.is(h.prepCancel64(s, 1n, 0x40), EINVAL, 'unknown cancel flag');
});

test('a send keeps the memory it was prepared with when the slab is destroyed', () => {
  const r = rig();
  const { c, fd } = connected(r);
  let got = '';
  c.onData = (b) => (got += text(b));
  const h = r.sim.host;
  const sl = h.slabCreate(5);
  new Uint8Array(r.sim.slabBuffer(sl)).set(bytesOf('kept!'));
  const s = r.sqe();
  h.prepSend(s, fd, sl, 0, 5, 0);
  h.sqeSetData64(s, 9n);
  assert.is(h.slabDestroy(sl), 0);
  assert.equal(r.settle(), [{ ud: 9n, res: 5, flags: 0 }]);
  r.sim.run();
  assert.is(got, 'kept!');
});

test('pinned slabs: visible to slabBuffer, not destroyable by the guest, unpinned by the host', () => {
  const sim = createSimBackend({ seed: 1 });
  const buf = new ArrayBuffer(64);
  const s = sim.pinSlab(buf);
  assert.is(sim.slabBuffer(s), buf);
  assert.is(sim.host.slabDestroy(s), EBUSY);
  sim.unpinSlab(s);
  assert.throws(() => sim.slabBuffer(s), (e: unknown) => (e as { code?: string }).code === 'EBADF');
});

test.run();
