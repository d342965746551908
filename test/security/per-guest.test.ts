// Finding 8 (issue 13): fd ownership, rings and slabs belong to one guest
// (one backend, one Wasm instance), not to the process or the thread. The
// cluster hand-off moves an fd between guests explicitly: releaseFd on one,
// claimFd on the other.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { ZerglingError } from '../../bridge/backend.ts';
import { fdCount, listenFromWasm, loadProbe, sleep } from '../bridge/probe.ts';
import { EBUSY, prep, tcpSocket } from './helpers.ts';

const A = loadProbe();
const B = loadProbe();
const fds0 = fdCount();
const EBADF = -9;

function code(fn: () => void): string | undefined {
  try { fn(); } catch (e) { return (e as ZerglingError).code; }
  return undefined;
}

test('two guests on one thread: neither reaches the other\'s fds, rings or slabs', () => {
  const fd = tcpSocket(A.probe);
  const ring = A.probe.createRing(8);
  const slab = A.probe.slabCreate(4096);
  const b = B.probe;
  assert.is(b.close(fd), EBADF);
  assert.is(b.fcntl(fd, 1, 0n), EBADF);
  assert.is(b.shutdown(fd, 2), EBADF);
  assert.is(b.getSqe(ring), EBADF);
  assert.is(b.destroyRing(ring), EBADF);
  assert.is(b.slabDestroy(slab), EBADF);
  const bring = b.createRing(8);
  const bfd = tcpSocket(b);
  assert.is(b.prepSend(b.getSqe(bring), bfd, slab, 0, 1, 0), EBADF, 'A\'s slab is not B\'s');
  assert.is(b.prepSend(b.getSqe(bring), fd, 0, 0, 0, 0), EBADF, 'A\'s fd is not B\'s');
  const asqe = A.probe.getSqe(ring);
  assert.is(b.prepCancel64(asqe, 0n, 0), EBADF, 'A\'s SQE handle is not B\'s');
  assert.is(A.backend.ownedFds(), 1);
  assert.is(B.backend.ownedFds(), 1);
  assert.is(b.destroyRing(bring), 0);
  assert.is(b.close(bfd), 0);
  assert.is(A.probe.destroyRing(ring), 0);
  assert.is(A.probe.slabDestroy(slab), 0);
  assert.is(A.probe.close(fd), 0);
});

test('hand-off: releaseFd turns the fd\'s prepared SQEs into NOPs; claimFd makes it the other guest\'s', () => {
  const fd = tcpSocket(A.probe);
  const ring = A.probe.createRing(8);
  const slab = A.probe.slabCreate(4096);
  prep(A.probe, ring, 1n, (s) => A.probe.prepSend(s, fd, slab, 0, 8, 0));
  assert.is(A.probe.enter(ring, 0, 0, 0, -1n), 0, 'flushed, not consumed');
  assert.is(code(() => A.backend.releaseFd(fd)), 'EBUSY');
  assert.is(A.probe.enter(ring, 1, 0, 0, -1n), 1);
  prep(A.probe, ring, 2n, (s) => A.probe.prepSend(s, fd, slab, 0, 8, 0));
  assert.is(code(() => A.backend.releaseFd(fd)), undefined);
  assert.is(A.probe.fcntl(fd, 1, 0n), EBADF, 'in transit: not A\'s');
  assert.is(B.probe.fcntl(fd, 1, 0n), EBADF, 'in transit: not B\'s yet');
  assert.is(A.probe.submit(ring), 1, 'the prepared send went out as a NOP');
  assert.is(code(() => A.backend.releaseFd(fd)), 'EBADF');
  assert.is(code(() => B.backend.claimFd(fd)), undefined);
  assert.is(code(() => A.backend.claimFd(fd)), 'EBADF', 'claimed once');
  assert.ok(B.probe.fcntl(fd, 1, 0n) >= 0, 'B\'s now');
  assert.is(A.probe.close(fd), EBADF);
  assert.is(B.probe.close(fd), 0);
  assert.is(A.probe.destroyRing(ring), 0);
  assert.is(A.probe.slabDestroy(slab), 0);
  void EBUSY;
});

test('a guest in a worker thread cannot close the main thread guest\'s fd; a claimed fd works there', async () => {
  const l = listenFromWasm(A.probe, 4);
  const other = tcpSocket(A.probe);
  A.backend.releaseFd(other);
  const src = `
    const { parentPort, workerData } = require('node:worker_threads');
    const a = require(workerData.path).newGuest();
    parentPort.postMessage({
      closeForeign: a.close(workerData.lfd),
      claim: a.claimFd(workerData.other),
      closeClaimed: a.close(workerData.other),
    });
  `;
  const path = process.env.ZERGLING_NATIVE_PATH ?? process.env.ZERGLING_NATIVE ??
    new URL('../../native/build/Release/zergling_native.node', import.meta.url).pathname;
  const w = new Worker(src, { eval: true, workerData: { path, lfd: l.fd, other } });
  const msg = await new Promise((resolve, reject) => { w.on('message', resolve); w.on('error', reject); });
  await new Promise((r) => w.on('exit', r));
  assert.equal(msg, { closeForeign: EBADF, claim: 0, closeClaimed: 0 });
  assert.ok(A.probe.fcntl(l.fd, 1, 0n) >= 0, 'the listener is still A\'s');
  assert.is(A.probe.close(l.fd), 0);
});

test('nothing leaked by this file', async () => {
  await sleep(20);
  assert.is(A.backend.ownedFds() + B.backend.ownedFds(), 0);
  assert.is(fdCount(), fds0);
});

test.run();
