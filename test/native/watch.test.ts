// Backend: watch() wake-ups (libuv uv_poll and the waiter-thread mode), the
// host object handed to the component, per-thread tables, worker teardown.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as net from 'node:net';
import { Worker } from 'node:worker_threads';
import {
  PURE_CQE_HELPERS, createNativeBackend, checkIoUring, loadNativeAddon, nativeAvailable,
} from '../../bridge/native.ts';
import { ZerglingError } from '../../bridge/backend.ts';
import { E, GETEVENTS, SETUP, fdCount, listen4, parseCqes, sleep } from './helpers.ts';

const a = loadNativeAddon();
const addonPath = process.env.ZERGLING_NATIVE_PATH ??
  new URL('../../native/build/Release/zergling_native.node', import.meta.url).pathname;
const fds0 = fdCount();

test('createNativeBackend: host is the addon\'s own functions, nothing wrapped', () => {
  assert.ok(nativeAvailable());
  checkIoUring();
  const b = createNativeBackend();
  assert.is(b.kind, 'native');
  const host = b.host as unknown as Record<string, unknown>;
  const names = Object.keys(host);
  assert.is(names.length, 45 + 6, 'the WIT imports, queue-* included');
  const pure = Object.keys(PURE_CQE_HELPERS);
  for (const n of names) {
    if (pure.includes(n)) assert.is(host[n], (PURE_CQE_HELPERS as Record<string, unknown>)[n], n);
    else {
      // The addon's own function (named by Node-API), bound to this backend's
      // guest: not the module's (another guest), and not a JS wrapper.
      assert.is(typeof host[n], 'function');
      assert.is((host[n] as { name: string }).name, n, `${n} is the addon's function`);
      assert.not.equal(host[n], (a as unknown as Record<string, unknown>)[n], `${n} belongs to a guest of its own`);
    }
  }
  // the JS pure helpers answer exactly as the addon's
  for (const flags of [0, 1, 2, 3, 0x10, 0x11, (5 << 16) | 1, (5 << 16), 0xffff0001, 0xffffffff]) {
    for (const userData of [0n, 1n, 0xffff_ffff_ffff_ffffn, 1n << 63n]) {
      const c = { userData, res: -1, flags: flags >>> 0 };
      assert.is(PURE_CQE_HELPERS.cqeGetData64(c), a.cqeGetData64(c));
      assert.is(PURE_CQE_HELPERS.cqeHasBuffer(c), a.cqeHasBuffer(c));
      assert.is(PURE_CQE_HELPERS.cqeBufferId(c), a.cqeBufferId(c));
    }
  }
  assert.throws(() => b.slabBuffer(12345), (e: unknown) => e instanceof ZerglingError && e.code === 'EBADF');
  assert.throws(() => b.unpinSlab(12345), (e: unknown) => e instanceof ZerglingError && e.code === 'EBADF');
  assert.throws(() => b.watch(12345, () => {}), (e: unknown) => e instanceof ZerglingError && e.code === 'EBADF');
  const s = b.pinSlab(new ArrayBuffer(8));
  b.unpinSlab(s);
  assert.is(b.ownedFds(), 0);
});

async function fires(threaded: boolean, flags: number): Promise<void> {
  const ring = a.createRingEx(8, flags, -1, 0);
  assert.ok(ring > 0);
  const seen: bigint[] = [];
  let acceptedFd = -1;
  let wakeups = 0;
  const id = a.watch(ring, () => {
    wakeups++;
    a.enter(ring, 0, 0, GETEVENTS, undefined);  // DEFER_TASKRUN: make the CQEs visible
    const cqes = parseCqes(a.peekBatchCqe(ring, 64));
    a.cqAdvance(ring, cqes.length);
    seen.push(...cqes.map((c) => c.userData));
    for (const c of cqes) if (c.userData === 42n) acceptedFd = c.res;
    a.quiesce(ring); // done with this wake-up: the next callback is a new signal
  }, threaded);
  assert.ok(id > 0);
  assert.is(a.watch(ring, () => {}, threaded), -E.EBUSY);
  assert.is((a.ringInfo(ring) as { watched: boolean }).watched, true);
  // A completion that arrives while JS is idle: an accept of a node:net client.
  const [lfd, port] = listen4(a);
  const sqe = a.getSqe(ring);
  a.prepMultishotAccept(sqe, lfd, 0);
  a.sqeSetData64(sqe, 42n);
  a.submit(ring);
  let timerTicks = 0;
  const timer = setInterval(() => timerTicks++, 1);  // the JS thread is never blocked
  const client = net.connect({ port, host: '127.0.0.1' });
  for (let i = 0; i < 1500 && seen.length === 0; i++) await sleep(2);
  clearInterval(timer);
  assert.equal(seen, [42n], `threaded=${threaded} flags=${flags}`);
  assert.ok(wakeups >= 1);
  assert.ok(timerTicks > 0);
  // NOPs wake it too
  for (let i = 0; i < 3; i++) a.sqeSetData64(a.getSqe(ring), BigInt(100 + i));
  a.submit(ring);
  for (let i = 0; i < 500 && seen.length < 4; i++) await sleep(2);
  assert.equal(seen.slice(1), [100n, 101n, 102n]);
  assert.is(a.unwatch(ring, id), 0);
  assert.is(a.unwatch(ring, id), -E.EBADF, 'second unwatch is harmless');
  // after unwatch, no more callbacks
  const n = wakeups;
  a.getSqe(ring);
  a.submit(ring);
  await sleep(30);
  assert.is(wakeups, n);
  a.destroyRing(ring);
  client.destroy();
  assert.is(a.close(lfd), 0);
  assert.is(a.close(acceptedFd), 0, 'the accepted fd became the guest\'s when read');
}

test('watch (uv_poll): fires on CQEs, plain ring', () => fires(false, 0));
test('watch (uv_poll): DEFER_TASKRUN ring', () => fires(false, SETUP.SINGLE_ISSUER | SETUP.DEFER_TASKRUN));
test('watch (waiter thread): plain ring', () => fires(true, 0));
test('watch (waiter thread): DEFER_TASKRUN ring', () => fires(true, SETUP.SINGLE_ISSUER | SETUP.DEFER_TASKRUN));

test('unwatch is safe after destroy-ring, and destroy-ring stops the watch', async () => {
  const b = createNativeBackend();
  for (const threaded of [false, true]) {
    const ring = threaded ? a.createRing(4) : b.host.createRing(4);
    let calls = 0;
    const stop = threaded
      ? ((id) => () => { a.unwatch(ring, id); })(a.watch(ring, () => { calls++; }, true))
      : b.watch(ring, () => { calls++; });
    assert.is(threaded ? a.destroyRing(ring) : b.host.destroyRing(ring), 0);
    stop();
    stop();
    const again = a.createRing(4);  // may reuse the eventfd number
    a.getSqe(again);
    a.submit(again);
    await sleep(20);
    assert.is(calls, 0);
    a.destroyRing(again);
  }
});

test('uv_poll is level-triggered until quiesce() reads the signal; quiesce on the waiter thread reads nothing', async () => {
  for (const threaded of [false, true]) {
    const ring = a.createRing(4);
    let calls = 0;
    const id = a.watch(ring, () => { calls++; }, threaded);
    a.getSqe(ring);
    a.submit(ring); // a NOP: one CQE, one eventfd signal
    for (let i = 0; i < 500 && calls === 0; i++) await sleep(2);
    await sleep(20);
    const n = calls;
    if (!threaded) assert.ok(n > 1, `uv_poll: called on every loop turn while signalled (${n})`);
    else assert.is(n, 1, 'the waiter drained the eventfd itself: one call');
    assert.is(a.quiesce(ring), threaded ? 0 : 1, 'quiesce read the pending count (uv_poll) / found it drained (waiter)');
    await sleep(20);
    const m = calls;
    await sleep(20);
    assert.is(calls, m, 'no more calls once the signal is read');
    assert.is(a.quiesce(ring), 0, 'nothing left to read');
    assert.is(a.quiesce(0xdead), -E.EBADF);
    assert.is(a.unwatch(ring, id), 0);
    a.destroyRing(ring);
  }
});

test('watch again after unwatch (same eventfd)', async () => {
  for (const threaded of [false, true]) {
    const ring = a.createRing(4);
    let calls = 0;
    const drain = (): void => { calls++; const b = a.peekBatchCqe(ring, 8); a.cqAdvance(ring, b.length / 16); a.quiesce(ring); };
    for (let round = 1; round <= 3; round++) {
      const id = a.watch(ring, drain, threaded);
      a.getSqe(ring);
      a.submit(ring);
      for (let i = 0; i < 500 && calls < round; i++) await sleep(2);
      assert.is(calls, round);
      assert.is(a.unwatch(ring, id), 0);
    }
    a.destroyRing(ring);
  }
});

test('destroy-ring from inside the watch callback', async () => {
  for (const threaded of [false, true]) {
    const ring = a.createRing(4);
    let destroyed = 0;
    a.watch(ring, () => { destroyed += a.destroyRing(ring) === 0 ? 1 : 0; }, threaded);
    a.getSqe(ring);
    a.submit(ring);
    for (let i = 0; i < 500 && destroyed === 0; i++) await sleep(2);
    assert.is(destroyed, 1);
    await sleep(10);
  }
});

test('tables and owned fds are per guest (so per thread); a worker cleans up on exit', async () => {
  const ring = a.createRing(4);
  const fd = a.socket(2, 1 | 0x800, 0);
  const src = `
    const { parentPort, workerData } = require('node:worker_threads');
    const a = require(workerData.path);
    const out = {};
    out.foreignRing = a.getSqe(workerData.ring);       // main's handle: not ours
    out.foreignFd = a.fcntl(workerData.fd, 3, 0n);       // main's fd: not this guest's
    const r = a.createRing(8);
    out.ownRing = r > 0;
    const s = a.slabCreate(1 << 16);
    out.view = a.slabBuffer(s).byteLength;
    const br = a.setupBufRing(r, 4, 1, 0);
    out.add = a.bufRingAdd(br, s, 0, 1024, 0, 3, 0);
    out.watch = a.watch(r, () => { a.quiesce(r); }, workerData.threaded) > 0;
    const lfd = a.socket(2, 1 | 0x800, 0);
    out.lfd = lfd > 0;
    a.close(lfd);
    parentPort.postMessage(out);
    // Exits with the ring, buf ring, slab and watch alive (the watch would keep
    // the loop running forever): the env cleanup releases them.
    setTimeout(() => process.exit(0), 10);
  `;
  for (const threaded of [false, true]) {
    const w = new Worker(src, {
      eval: true,
      workerData: { path: addonPath, ring, fd, threaded },
    });
    const msg = await new Promise((resolve, reject) => { w.on('message', resolve); w.on('error', reject); });
    await new Promise((r) => w.on('exit', r));
    assert.equal(msg, { foreignRing: -E.EBADF, foreignFd: -E.EBADF, ownRing: true, view: 65536, add: 0, watch: true, lfd: true });
  }
  assert.is(a.close(fd), 0);
  a.destroyRing(ring);
  await sleep(20);
  assert.is(fdCount(), fds0);
});

test('terminate() of a busy worker with a watched ring', async () => {
  const src = `
    const { workerData } = require('node:worker_threads');
    const a = require(workerData.path);
    const r = a.createRing(8);
    a.watch(r, () => { a.quiesce(r); }, workerData.threaded);
    setInterval(() => { a.getSqe(r); a.submit(r); const b = a.peekBatchCqe(r, 64); a.cqAdvance(r, b.length / 16); }, 1);
  `;
  for (const threaded of [false, true]) {
    const w = new Worker(src, {
      eval: true,
      workerData: { path: addonPath, threaded },
    });
    await sleep(50);
    await w.terminate();
  }
  await sleep(20);
  assert.is(fdCount(), fds0);
});

test('nothing leaked by this file', () => {
  assert.is(a.ownedFds(), 0);
  assert.is(fdCount(), fds0);
});

test.run();
