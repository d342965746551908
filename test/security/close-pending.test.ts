// Finding 2 (issue 13), from a Wasm guest: fd ownership is checked at prep
// and the fd is used when the kernel consumes the SQE. close(F) turns the
// prepared SQEs naming F into NOPs that post no CQE, and is -EBUSY while an
// SQE naming F was flushed to the kernel but not consumed; every flush
// re-checks the prepared SQEs' fds as well. So when the runtime reuses F's
// number, the guest's old SQEs cannot reach the runtime's new socket.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as net from 'node:net';
import { closeSync, openSync } from 'node:fs';
import { ENTER_GETEVENTS, collect, connect, fdCount, listenFromWasm, loadProbe, sleep, until } from '../bridge/probe.ts';
import { EBUSY, prep, tcpSocket } from './helpers.ts';

const { backend, probe: p } = loadProbe();
const fds0 = fdCount();
const fdOf = (h: unknown): number => (h as { _handle: { fd: number } })._handle.fd;

/** CQEs ready now, after running deferred work (consumed). */
function reapNow(ring: number): number {
  p.enter(ring, 0, 0, ENTER_GETEVENTS, 0n);
  const got = p.reap(ring, 256);
  if (got.length > 0) p.cqAdvance(ring, got.length);
  return got.length;
}

/**
 * The kernel hands out the lowest free fd number: occupy every free number
 * below `fd` so that the runtime's next socket gets `fd` (on a cold machine
 * other fds, e.g. a loader's cache, come and go in between). Close the
 * returned fds once that socket exists.
 */
function freeOnly(fd: number): number[] {
  const held: number[] = [];
  for (let i = 0; i < 256; i++) {
    const d = openSync('/dev/null', 'r');
    if (d >= fd) {
      closeSync(d);
      break;
    }
    held.push(d);
  }
  return held;
}
const release = (held: number[]): void => { for (const d of held) closeSync(d); };

test('an accept prepared on F, F closed, F reused by a runtime listener: the submit cannot steal its connections', async () => {
  // The runtime must get F's number. Other fds come and go meanwhile on a cold
  // machine (a loader's cache opened and closed during listen()), so a lower
  // number can be free again by then: try again with a new F, a bounded number of times.
  let ring = -1, l: ReturnType<typeof listenFromWasm> | undefined, srv: net.Server | undefined;
  const seen: net.Socket[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    ring = p.createRing(8);
    l = listenFromWasm(p, 4);
    prep(p, ring, 0x11n, (s) => p.prepMultishotAccept(s, l!.fd, 0));
    assert.is(p.close(l.fd), 0);
    assert.is(p.sqReady(ring), 1, 'still prepared (now a NOP)');
    srv = net.createServer();
    srv.on('connection', (s) => seen.push(s));
    const held = freeOnly(l.fd);
    await new Promise<void>((r) => srv!.listen(0, '127.0.0.1', r));
    release(held);
    if (fdOf(srv) === l.fd) break;
    await new Promise<void>((r) => srv!.close(() => r()));
    assert.is(p.destroyRing(ring), 0);
  }
  assert.is(fdOf(srv), l!.fd, 'precondition: the runtime reused the number (5 attempts)');
  assert.is(p.submit(ring), 1);
  const port = (srv!.address() as net.AddressInfo).port;
  const clients = [];
  for (let i = 0; i < 3; i++) clients.push(await connect(port, '127.0.0.1'));
  await until(() => seen.length === 3, 'the runtime\'s listener gets its 3 connections', 2000);
  assert.is(reapNow(ring), 0, 'the NOP posted no CQE, and no accept ran');
  for (const c of clients) c.sock.destroy();
  for (const s of seen) s.destroy();
  await new Promise<void>((r) => srv!.close(() => r()));
  assert.is(p.destroyRing(ring), 0);
});

test('a send prepared on C, C closed, C reused by a runtime client: no guest byte reaches the runtime\'s socket', async () => {
  const ring = p.createRing(8);
  const l = listenFromWasm(p, 4);
  prep(p, ring, 0x21n, (s) => p.prepMultishotAccept(s, l.fd, 0));
  assert.is(p.submit(ring), 1);
  const peer = await connect(l.port, '127.0.0.1');
  const acc = await collect(p, ring, (all) => all.some((c) => c.userData === 0x21n && c.res >= 0));
  const cfd = acc.find((c) => c.res >= 0)!.res;
  const slab = p.slabCreate(4096);
  new Uint8Array(backend.slabBuffer(slab)).set(Buffer.from('GUEST-BYTES'));
  // The runtime's own connection, on a server of its own.
  const srv = net.createServer();
  let got = '';
  srv.on('connection', (s) => s.on('data', (b: Buffer) => { got += b.toString(); }));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  prep(p, ring, 0x22n, (s) => p.prepSend(s, cfd, slab, 0, 11, 0));
  assert.is(p.close(cfd), 0);
  const held = freeOnly(cfd);
  const mine = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise<void>((r) => mine.once('connect', () => r()));
  release(held);
  assert.is(fdOf(mine), cfd, 'precondition: the runtime reused the number');
  assert.is(p.submit(ring), 1);
  await sleep(50);
  assert.is(reapNow(ring), 0, 'the NOP posted no CQE');
  assert.is(got, '', 'the runtime\'s socket got nothing from the guest');
  mine.write('runtime');
  await until(() => got === 'runtime', 'the runtime\'s own bytes still flow');
  mine.destroy();
  peer.sock.destroy();
  await new Promise<void>((r) => srv.close(() => r()));
  assert.is(p.destroyRing(ring), 0);
  assert.is(p.slabDestroy(slab), 0);
  assert.is(p.close(l.fd), 0);
});

test('close is -EBUSY while a flushed, unconsumed SQE names the fd; fine once the kernel took it', () => {
  const ring = p.createRing(8);
  const fd = tcpSocket(p);
  const slab = p.slabCreate(4096);
  prep(p, ring, 0x31n, (s) => p.prepSend(s, fd, slab, 0, 16, 0));
  // enter(to-submit 0) publishes the SQE to the kernel, which consumes none.
  assert.is(p.enter(ring, 0, 0, 0, -1n), 0);
  assert.is(p.sqReady(ring), 1, 'flushed, not consumed');
  assert.is(p.close(fd), EBUSY);
  assert.is(p.fcntl(fd, 1, 0n) >= 0, true, 'still the guest\'s');
  assert.is(p.enter(ring, 1, 0, 0, -1n), 1, 'the kernel takes it (and resolves the fd now)');
  assert.is(p.close(fd), 0);
  assert.is(p.destroyRing(ring), 0);
  assert.is(p.slabDestroy(slab), 0);
});

test('nothing leaked by this file', async () => {
  await sleep(20);
  assert.is(backend.ownedFds(), 0);
  assert.is(fdCount(), fds0);
});

test.run();
