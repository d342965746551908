// Finding 4 (issue 13), from JS: an export that reads JS objects reads them
// completely before it looks up a ring, SQE or slab, because a getter can run
// any JS, including destroyRing or slabDestroy. The call then sees the object
// gone and returns -EBADF: no use after free, no crash.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { E, addon, fdCount, listen4 } from '../native/helpers.ts';

const a = addon();
const fds0 = fdCount();

test('prep-sendmsg: a getter that destroys the ring', () => {
  const ring = a.createRing(8);
  const [fd] = listen4(a);
  const slab = a.slabCreate(4096);
  const sqe = a.getSqe(ring);
  const iov = [{ get slab() { a.destroyRing(ring); return slab; }, offset: 0, len: 16 }];
  assert.is(a.prepSendmsg(sqe, fd, iov as never, 0), -E.EBADF);
  assert.is(a.slabDestroy(slab), 0);
  assert.is(a.close(fd), 0);
});

test('prep-sendmsg: a getter that destroys a slab an earlier range named', () => {
  const ring = a.createRing(8);
  const [fd] = listen4(a);
  const s1 = a.slabCreate(4096);
  const s2 = a.slabCreate(4096);
  const sqe = a.getSqe(ring);
  const iov = [
    { slab: s1, offset: 0, len: 16 },
    { slab: s2, get offset() { a.slabDestroy(s1); return 0; }, len: 16 },
  ];
  assert.is(a.prepSendmsg(sqe, fd, iov as never, 0), -E.EBADF);
  assert.is(a.sqReady(ring), 1);
  assert.is(a.submit(ring), 1, 'the SQE stayed a NOP');
  assert.is(a.destroyRing(ring), 0);
  assert.is(a.slabDestroy(s2), 0);
  assert.is(a.close(fd), 0);
});

test('prep-sendmsg: a getter that submits (the SQE handle dies) or closes the fd', () => {
  const ring = a.createRing(8);
  const [fd] = listen4(a);
  const slab = a.slabCreate(4096);
  let sqe = a.getSqe(ring);
  assert.is(a.prepSendmsg(sqe, fd, [{ get slab() { a.submit(ring); return slab; }, offset: 0, len: 1 }] as never, 0), -E.EBADF);
  sqe = a.getSqe(ring);
  assert.is(a.prepSendmsg(sqe, fd, [{ get slab() { a.close(fd); return slab; }, offset: 0, len: 1 }] as never, 0), -E.EBADF);
  assert.is(a.destroyRing(ring), 0);
  assert.is(a.slabDestroy(slab), 0);
});

test('timespec and sockaddr records: getters run before any lookup', () => {
  const ring = a.createRing(8);
  const ts = { get tvSec() { a.destroyRing(ring); return 0n; }, tvNsec: 1000n };
  assert.is(a.submitAndWaitTimeout(ring, 1, ts), -E.EBADF);
  const r2 = a.createRing(8);
  const ts2 = { get tvSec() { a.destroyRing(r2); return 0n; }, tvNsec: 1000n };
  assert.is(a.enter(r2, 0, 1, 1, ts2), -E.EBADF);
  const r3 = a.createRing(8);
  const ts3 = { get tvSec() { a.destroyRing(r3); return 0n; }, tvNsec: 1000n };
  assert.is(a.waitCqeTimeout(r3, ts3).ret, -E.EBADF);
  const fd = a.socket(2, 1, 0);
  assert.is(a.bind(fd, { get port() { a.close(fd); return 0; }, addr: 0x7f000001 } as never), -E.EBADF);
});

test('nothing leaked by this file', () => {
  assert.is(a.ownedFds(), 0);
  assert.is(fdCount(), fds0);
});

test.run();
