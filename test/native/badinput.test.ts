// Bad handles, offsets, lengths, buffer ids and fds: each gives its errno and
// the process lives. Ends with a randomized call storm.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AF_INET, E, SOCK_NONBLOCK, SOCK_STREAM, addon, fdCount, listen4, parseCqes, ts,
} from './helpers.ts';

const a = addon();
const fds0 = fdCount();
const BAD_HANDLES = [0, 1, 63, 64 + 63, 0x7fffffff, 0xffffffff, 12345678];

test('bad ring handles', () => {
  const dead = a.createRing(2);
  a.destroyRing(dead);
  for (const h of [...BAD_HANDLES, dead]) {
    assert.is(a.destroyRing(h), -E.EBADF);
    assert.is(a.getRingFlags(h), BigInt(-E.EBADF));
    assert.is(a.getSqe(h), -E.EBADF);
    assert.is(a.submit(h), -E.EBADF);
    assert.is(a.submitAndWait(h, 1), -E.EBADF);
    assert.is(a.submitAndWaitTimeout(h, 1, ts(1)), -E.EBADF);
    assert.is(a.enter(h, 0, 0, 0, undefined), -E.EBADF);
    assert.is(a.waitCqe(h).ret, -E.EBADF);
    assert.is(a.waitCqeTimeout(h, ts(1)).ret, -E.EBADF);
    assert.is(a.waitCqes(h, 1, ts(1)).ret, -E.EBADF);
    assert.is(a.peekBatchCqe(h, 16).byteLength, 0);
    assert.is(a.cqeSeen(h), -E.EBADF);
    assert.is(a.cqAdvance(h, 0), -E.EBADF);
    assert.is(a.cqReady(h), -E.EBADF);
    assert.is(a.sqReady(h), -E.EBADF);
    assert.is(a.setupBufRing(h, 8, 1, 0), -E.EBADF);
    assert.is(a.freeBufRing(h, 1), -E.EBADF);
  }
});

test('bad SQE handles', () => {
  const r = a.createRing(8);
  const [lfd] = listen4(a);
  const slab = a.slabCreate(4096);
  for (const h of [...BAD_HANDLES, r, a.getSqe(r) + (1 << 6)]) {
    assert.is(a.sqeSetData64(h, 1n), -E.EBADF, `handle ${h}`);
    assert.is(a.prepMultishotAccept(h, lfd, 0), -E.EBADF);
    assert.is(a.prepRecvMultishotSelect(h, lfd, 0, 0), -E.EBADF);
    assert.is(a.prepSend(h, lfd, slab, 0, 1, 0), -E.EBADF);
    assert.is(a.prepSendmsg(h, lfd, [], 0), -E.EBADF);
    assert.is(a.prepCancel64(h, 1n, 0), -E.EBADF);
  }
  a.destroyRing(r);
  a.close(lfd);
  a.slabDestroy(slab);
});

test('fds the guest does not own are -EBADF (stdio untouched)', () => {
  const r = a.createRing(8);
  const slab = a.slabCreate(64);
  const sqe = a.getSqe(r);
  for (const fd of [-1, 0, 1, 2, 3, 1 << 24, 0x7fffffff]) {
    assert.is(a.close(fd), -E.EBADF, `close(${fd})`);
    assert.is(a.bind(fd, { port: 0, addr: 0x7f000001 }), -E.EBADF);
    assert.is(a.bind6(fd, { port: 0, flowinfo: 0, hi: 0n, lo: 1n, scopeId: 0 }), -E.EBADF);
    assert.is(a.listen(fd, 1), -E.EBADF);
    assert.is(a.setsockopt(fd, 1, 2, 1), -E.EBADF);
    assert.is(a.fcntl(fd, 3, 0n), -E.EBADF);
    assert.is(a.shutdown(fd, 2), -E.EBADF);
    assert.is(a.getsockname(fd).ret, -E.EBADF);
    assert.is(a.getpeername(fd).ret, -E.EBADF);
    assert.is(a.prepMultishotAccept(sqe, fd, 0), -E.EBADF);
    assert.is(a.prepRecvMultishotSelect(sqe, fd, 0, 0), -E.EBADF);
    assert.is(a.prepSend(sqe, fd, slab, 0, 1, 0), -E.EBADF);
    assert.is(a.prepSendmsg(sqe, fd, [{ slab, offset: 0, len: 1 }], 0), -E.EBADF);
  }
  process.stdout.write('');  // stdout still works
  // A closed fd is no longer the guest's.
  const fd = a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  assert.ok(fd > 2);
  assert.is(a.ownedFds(), 1);
  assert.is(a.close(fd), 0);
  assert.is(a.ownedFds(), 0);
  assert.is(a.close(fd), -E.EBADF);
  assert.is(a.prepSend(sqe, fd, slab, 0, 1, 0), -E.EBADF);
  assert.is(a.listen(fd, 1), -E.EBADF);
  a.destroyRing(r);
  a.slabDestroy(slab);
});

test('socket-level errors come from the kernel', () => {
  assert.is(a.socket(12345, SOCK_STREAM, 0), -E.EAFNOSUPPORT);
  const fd = a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  assert.is(a.fcntl(fd, 0 /* F_DUPFD */, 10n), -E.EINVAL, 'pointer/fd-creating commands refused');
  assert.is(a.fcntl(fd, 3, 1n << 40n), -E.EINVAL);
  assert.ok((a.fcntl(fd, 3 /* F_GETFL */, 0n) & SOCK_NONBLOCK) !== 0);
  assert.ok((a.fcntl(fd, 1 /* F_GETFD */, 0n) & 1) !== 0, 'FD_CLOEXEC always set');
  assert.is(a.setsockopt(fd, 1, 13 /* SO_LINGER wants a struct */, 1), -E.EINVAL);
  assert.is(a.bind(fd, { port: 70000, addr: 0 }), -E.EINVAL);
  assert.is(a.getpeername(fd).ret, -107, 'ENOTCONN');
  assert.is(a.close(fd), 0);
});

test('slab ranges: -EFAULT outside, -EBADF for a bad slab', () => {
  const r = a.createRing(8);
  const [lfd] = listen4(a);
  const slab = a.slabCreate(4096);
  const sqe = a.getSqe(r);
  assert.is(a.slabCreate(0), -E.EINVAL);
  for (const [off, len] of [[4096, 1], [0, 4097], [4095, 2], [0xffffffff, 2], [2, 0xffffffff]]) {
    assert.is(a.prepSend(sqe, lfd, slab, off, len, 0), -E.EFAULT, `${off}+${len}`);
    assert.is(a.prepSendmsg(sqe, lfd, [{ slab, offset: 0, len: 1 }, { slab, offset: off, len }], 0), -E.EFAULT);
  }
  assert.is(a.prepSend(sqe, lfd, slab, 4096, 0, 0), 0, 'an empty range at the end is inside');
  for (const bad of BAD_HANDLES) {
    assert.is(a.prepSend(sqe, lfd, bad, 0, 1, 0), -E.EBADF);
    assert.is(a.slabDestroy(bad), -E.EBADF);
  }
  const many = Array.from({ length: 65 }, () => ({ slab, offset: 0, len: 1 }));
  assert.is(a.prepSendmsg(sqe, lfd, many, 0), -E.EINVAL, '65 iovecs');
  assert.is(a.prepSendmsg(sqe, lfd, many.slice(0, 64), 0), 0, '64 iovecs');
  assert.is(a.destroyRing(r), 0);
  assert.is(a.slabDestroy(slab), 0);
  assert.is(a.slabDestroy(slab), -E.EBADF);
  a.close(lfd);
});

test('prep flag validation', () => {
  const r = a.createRing(8);
  const [lfd] = listen4(a);
  const sqe = a.getSqe(r);
  assert.is(a.prepMultishotAccept(sqe, lfd, 0x1), -E.EINVAL);
  assert.is(a.prepMultishotAccept(sqe, lfd, SOCK_NONBLOCK), 0);
  assert.is(a.prepRecvMultishotSelect(sqe, lfd, 0x10000, 0), -E.EINVAL);
  assert.is(a.prepCancel64(sqe, 1n, 0x2 /* CANCEL_FD */), -E.EINVAL);
  assert.is(a.prepCancel64(sqe, 1n, 0x1 /* CANCEL_ALL */), 0);
  a.destroyRing(r);
  a.close(lfd);
});

test('buffer rings: entries, bgid, flags, bid, mask, idx, len, advance', () => {
  const r = a.createRing(8);
  const slab = a.slabCreate(8 * 256);
  for (const n of [0, 3, 65536]) assert.is(a.setupBufRing(r, n, 1, 0), -E.EINVAL, `entries ${n}`);
  assert.is(a.setupBufRing(r, 8, 0x10000, 0), -E.EINVAL, 'bgid');
  assert.is(a.setupBufRing(r, 8, 1, 1 /* PBUF_RING_MMAP */), -E.EINVAL);
  const br = a.setupBufRing(r, 8, 1, 0);
  assert.ok(br > 0);
  assert.is(a.setupBufRing(r, 8, 1, 0), -E.EEXIST, 'same bgid twice');
  assert.is(a.bufRingAdd(br, slab, 0, 256, 8, 7, 0), -E.EINVAL, 'bid == entries');
  assert.is(a.bufRingAdd(br, slab, 0, 256, 0, 15, 0), -E.EINVAL, 'mask');
  assert.is(a.bufRingAdd(br, slab, 0, 256, 0, 7, 8), -E.EINVAL, 'idx');
  assert.is(a.bufRingAdd(br, slab, 0, 0, 0, 7, 0), -E.EINVAL, 'len 0');
  assert.is(a.bufRingAdd(br, slab, 8 * 256 - 10, 256, 0, 7, 0), -E.EFAULT);
  assert.is(a.bufRingAdd(br, 999, 0, 256, 0, 7, 0), -E.EBADF);
  for (const bad of BAD_HANDLES) {
    assert.is(a.bufRingAdd(bad, slab, 0, 256, 0, 7, 0), -E.EBADF);
    assert.is(a.bufRingAdvance(bad, 1), -E.EBADF);
  }
  assert.is(a.bufRingAdvance(br, 1), -E.EINVAL, 'nothing added yet');
  for (let i = 0; i < 3; i++) assert.is(a.bufRingAdd(br, slab, i * 256, 256, i, 7, i), 0);
  assert.is(a.bufRingAdvance(br, 4), -E.EINVAL, 'only 3 added');
  assert.is(a.bufRingAdvance(br, 9), -E.EINVAL);
  assert.is(a.bufRingAdvance(br, 2), 0);
  assert.is(a.bufRingAdvance(br, 2), -E.EINVAL, 'one left');
  assert.is(a.bufRingAdvance(br, 1), 0);
  assert.is(a.bufRingAdvance(br, 1), -E.EINVAL);
  assert.is(a.slabDestroy(slab), -E.EBUSY, 'registered in a buffer ring');
  const r2 = a.createRing(2);
  assert.is(a.freeBufRing(r2, br), -E.EBADF, 'another ring\'s buf-ring');
  assert.is(a.freeBufRing(r, br), 0);
  assert.is(a.freeBufRing(r, br), -E.EBADF);
  assert.is(a.bufRingAdd(br, slab, 0, 256, 0, 7, 0), -E.EBADF);
  assert.is(a.slabDestroy(slab), 0);
  // destroy-ring frees its buffer rings (and their slab references)
  const slab2 = a.slabCreate(4096);
  const br2 = a.setupBufRing(r2, 2, 3, 2 /* IOU_PBUF_RING_INC */);
  assert.ok(br2 > 0, `INC flag accepted: ${br2}`);
  assert.is(a.bufRingAdd(br2, slab2, 0, 4096, 0, 1, 0), 0);
  assert.is(a.slabDestroy(slab2), -E.EBUSY);
  a.destroyRing(r2);
  assert.is(a.bufRingAdvance(br2, 1), -E.EBADF);
  assert.is(a.slabDestroy(slab2), 0);
  a.destroyRing(r);
});

test('pinned slabs: lent ArrayBuffers', () => {
  assert.throws(() => a.pinSlab(new Uint8Array(4) as unknown as ArrayBuffer), /ArrayBuffer/);
  assert.is(a.pinSlab(new ArrayBuffer(0)), -E.EINVAL);
  const buf = new ArrayBuffer(100);
  const s = a.pinSlab(buf);
  assert.ok(s > 0);
  assert.is(a.slabBuffer(s), buf, 'the same ArrayBuffer');
  assert.is(a.slabDestroy(s), -E.EBUSY, 'the guest can never destroy a pinned slab');
  const r = a.createRing(4);
  const [lfd] = listen4(a);
  assert.is(a.prepSend(a.getSqe(r), lfd, s, 99, 2, 0), -E.EFAULT);
  assert.is(a.prepSend(a.getSqe(r), lfd, s, 0, 100, 0), 0);
  assert.is(a.unpinSlab(s), 0);
  assert.is(a.unpinSlab(s), -E.EBADF);
  assert.is(a.slabBuffer(s), -E.EBADF);
  const created = a.slabCreate(16);
  assert.is(a.unpinSlab(created), -E.EINVAL, 'not pinned');
  a.slabDestroy(created);
  a.destroyRing(r);
  a.close(lfd);
});

test('slabBuffer: zero copy, same view, detached on destroy', () => {
  const s = a.slabCreate(10000);
  const ab = a.slabBuffer(s) as ArrayBuffer;
  assert.is(ab.byteLength, 10000);
  assert.is(a.slabBuffer(s), ab, 'cached while alive');
  new Uint8Array(ab).set([1, 2, 3], 9997);
  const again = new Uint8Array(a.slabBuffer(s) as ArrayBuffer);
  assert.equal([...again.subarray(9997)], [1, 2, 3]);
  const view = new Uint8Array(ab);
  assert.is(a.slabDestroy(s), 0);
  assert.is(ab.byteLength, 0, 'detached: JS can no longer reach the memory');
  assert.is(view.length, 0);
  assert.is(a.slabBuffer(s), -E.EBADF);
});

test('pure CQE helpers and inet-pton', () => {
  assert.is(a.cqeGetData64({ userData: 0xdead_beef_0000_0001n, res: -1, flags: 0 }), 0xdead_beef_0000_0001n);
  assert.is(a.cqeHasBuffer({ userData: 0n, res: 0, flags: 1 | (5 << 16) }), true);
  assert.is(a.cqeHasBuffer({ userData: 0n, res: 0, flags: 2 }), false);
  assert.is(a.cqeBufferId({ userData: 0n, res: 0, flags: (0xffff << 16 | 1) >>> 0 }), 0xffff);
  assert.is(a.cqeBufferId({ userData: 0n, res: 0, flags: 5 << 16 }), -E.EINVAL);
  assert.equal(a.inetPton(2, '10.1.2.3'), { ret: 1, family: 2, port: 0, hi: 0n, lo: 0x0a010203n });
  assert.equal(a.inetPton(10, '2001:db8::ff00:42:8329'),
    { ret: 1, family: 10, port: 0, hi: 0x20010db800000000n, lo: 0x0000ff0000428329n });
  assert.is(a.inetPton(2, '256.1.1.1').ret, 0);
  assert.is(a.inetPton(2, '1.2.3.4\u0000junk').ret, 0);
  assert.is(a.inetPton(2, 'x'.repeat(1000)).ret, 0);
  assert.is(a.inetPton(1, '1.2.3.4').ret, -E.EAFNOSUPPORT);
});

test('pin-current-thread-to-cpu', () => {
  assert.is(a.pinCurrentThreadToCpu(-1), -E.EINVAL);
  assert.is(a.pinCurrentThreadToCpu(1 << 20), -E.EINVAL);
  assert.is(a.pinCurrentThreadToCpu(0), 0);
});

test('wrong JS types throw TypeError, not crash', () => {
  const x = a as unknown as Record<string, (...args: unknown[]) => unknown>;
  assert.throws(() => x.getSqe('a'), TypeError);
  assert.throws(() => x.sqeSetData64(1, {}), TypeError);
  assert.throws(() => x.waitCqeTimeout(1, null), TypeError);
  assert.throws(() => x.prepSendmsg(1, 1, 'x', 0), TypeError);
  assert.throws(() => x.inetPton(2, 5), TypeError);
  assert.throws(() => x.cqeHasBuffer(1, undefined), TypeError);
});

// A seeded storm of host calls with plausible and implausible arguments.
test('randomized: 30k calls, no crash, no leak', () => {
  let seed = 0x2545f491;
  const rnd = (n: number): number => {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const rings: number[] = [];
  const slabs: number[] = [];
  const brs: number[] = [];
  const fds: number[] = [];
  const sqes: number[] = [];
  const pick = (xs: number[]): number => (xs.length && rnd(4) !== 0 ? xs[rnd(xs.length)] : [0, 1, 2, 63, 0x7fffffff, rnd(1 << 20)][rnd(6)]);
  const u32 = (): number => [0, 1, 2, 7, 8, 64, 4095, 4096, 65535, 0xffffffff, rnd(1 << 16)][rnd(11)];
  for (let i = 0; i < 30000; i++) {
    switch (rnd(24)) {
      case 0: if (rings.length < 6) { const r = a.createRingEx(1 << rnd(5), [0, 0x1000 | 0x2000, 0x100][rnd(3)], -1, 0); if (r > 0) rings.push(r); } break;
      case 1: { const r = pick(rings); if (a.destroyRing(r) === 0) rings.splice(rings.indexOf(r), 1); } break;
      case 2: { const s = a.getSqe(pick(rings)); if (s >= 0) sqes.push(s); } break;
      case 3: a.submit(pick(rings)); break;
      case 4: a.enter(pick(rings), u32(), 0, rnd(2), rnd(2) ? undefined : { tvSec: 0n, tvNsec: BigInt(rnd(1000)) }); break;
      case 5: { const r = pick(rings); const b = a.peekBatchCqe(r, u32()); a.cqAdvance(r, b.byteLength / 16); } break;
      case 6: a.cqAdvance(pick(rings), u32()); break;
      case 7: a.waitCqeTimeout(pick(rings), { tvSec: 0n, tvNsec: 1000n }); a.cqeSeen(pick(rings)); break;
      case 8: a.prepSend(pick(sqes), pick(fds), pick(slabs), u32(), u32(), u32()); break;
      case 9: a.prepSendmsg(pick(sqes), pick(fds), Array.from({ length: rnd(4) }, () => ({ slab: pick(slabs), offset: u32(), len: u32() })), 0); break;
      case 10: a.prepRecvMultishotSelect(pick(sqes), pick(fds), rnd(4), 0); break;
      case 11: a.prepMultishotAccept(pick(sqes), pick(fds), [0, SOCK_NONBLOCK, 1][rnd(3)]); break;
      case 12: a.prepCancel64(pick(sqes), BigInt(rnd(8)), rnd(3)); a.sqeSetData64(pick(sqes), BigInt(rnd(8))); break;
      case 13: if (slabs.length < 8) { const s = a.slabCreate(u32() % (1 << 16)); if (s > 0) slabs.push(s); } break;
      case 14: { const s = pick(slabs); if (a.slabDestroy(s) === 0) slabs.splice(slabs.indexOf(s), 1); } break;
      case 15: { const b = a.setupBufRing(pick(rings), 1 << rnd(5), rnd(4), rnd(3)); if (b > 0) brs.push(b); } break;
      case 16: a.bufRingAdd(pick(brs), pick(slabs), u32(), u32(), rnd(20), u32(), rnd(20)); break;
      case 17: a.bufRingAdvance(pick(brs), rnd(5)); break;
      case 18: a.freeBufRing(pick(rings), pick(brs)); break;
      case 19: if (fds.length < 8) { const fd = a.socket([AF_INET, 10, 1][rnd(3)], SOCK_STREAM | SOCK_NONBLOCK, 0); if (fd >= 0) fds.push(fd); } break;
      case 20: { const fd = pick(fds); if (a.close(fd) === 0) fds.splice(fds.indexOf(fd), 1); } break;
      case 21: a.bind(pick(fds), { port: 0, addr: rnd(2) ? 0x7f000001 : rnd(1 << 30) }); a.listen(pick(fds), rnd(8)); break;
      case 22: a.setsockopt(pick(fds), rnd(3), rnd(20), rnd(3)); a.fcntl(pick(fds), rnd(6), BigInt(rnd(4096))); a.shutdown(pick(fds), rnd(4)); break;
      case 23: a.getsockname(pick(fds)); a.getpeername(pick(fds)); a.inetPton(rnd(12), ['1.2.3.4', '::1', 'zz', ''][rnd(4)]); break;
    }
    if (sqes.length > 64) sqes.splice(0, 32);
  }
  for (const r of rings) assert.is(a.destroyRing(r), 0);
  for (const s of slabs) assert.is(a.slabDestroy(s), 0, 'every buffer ring was freed with its ring');
  for (const fd of fds) assert.is(a.close(fd), 0);
  assert.is(a.ownedFds(), 0);
  assert.is(fdCount(), fds0);
});

test('nothing leaked by this file', () => {
  assert.is(fdCount(), fds0);
  assert.is(a.ownedFds(), 0);
  assert.ok(parseCqes(new Uint8Array(0)).length === 0);
});

test.run();
