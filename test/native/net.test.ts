// Real TCP on loopback: listener (IPv4, IPv6), multishot accept of node:net
// clients, multishot recv with provided buffers (plain and incremental),
// send / sendmsg from slabs (zero copy), cancel, shutdown, fd ownership.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as net from 'node:net';
import {
  AF_INET6, CQE_F, E, GETEVENTS, IPPROTO_IPV6, IPV6_V6ONLY, SETUP, SOCK_NONBLOCK, SOCK_STREAM,
  addon, fdCount, listen4, parseCqes, reapNow, reapUntil, sleep, submitOne, tick, ts,
} from './helpers.ts';
import type { Cqe } from './helpers.ts';

const a = addon();
const fds0 = fdCount();

function connect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ port, host }, () => resolve(c));
    c.on('error', reject);
  });
}
function collect(c: net.Socket): { data: () => Buffer; ended: Promise<void> } {
  const chunks: Buffer[] = [];
  c.on('data', (d: Buffer) => chunks.push(d));
  const ended = new Promise<void>((r) => c.on('end', () => r()));
  return { data: () => Buffer.concat(chunks), ended };
}
async function until(pred: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(2);
  }
}

test('IPv4: accept, recv into provided buffers, send and sendmsg from slabs, cancel, shutdown', async () => {
  const ring = a.createRing(32);
  const [lfd, port] = listen4(a);
  assert.ok(port > 0);
  assert.is(a.getsockname(lfd).family, 2);
  assert.is(a.getsockname(lfd).lo, 0x7f000001n);
  const owned0 = a.ownedFds();

  // provided buffers: 8 x 512 bytes of one slab
  const rslab = a.slabCreate(8 * 512);
  const br = a.setupBufRing(ring, 8, 1, 0);
  for (let i = 0; i < 8; i++) assert.is(a.bufRingAdd(br, rslab, i * 512, 512, i, 7, i), 0);
  assert.is(a.bufRingAdvance(br, 8), 0);

  assert.is(submitOne(a, ring, 100n, (s) => a.prepMultishotAccept(s, lfd, SOCK_NONBLOCK)), 1);
  const client = await connect(port);
  const got = collect(client);
  const acc = await reapUntil(a, ring, (all) => all.length >= 1);
  assert.is(acc[0].userData, 100n);
  assert.ok(acc[0].res > 2, `accepted fd ${acc[0].res}`);
  assert.ok(acc[0].flags & CQE_F.MORE, 'multishot continues');
  const fd = acc[0].res;
  assert.is(a.ownedFds(), owned0 + 1, 'the accepted fd is the guest\'s');
  const peer = a.getpeername(fd);
  assert.equal([peer.ret, peer.family, peer.port, peer.lo], [0, 2, client.localPort, 0x7f000001n]);
  assert.ok(a.fcntl(fd, 3, 0n) & SOCK_NONBLOCK, 'accept4 flags applied');
  assert.ok(a.fcntl(fd, 1, 0n) & 1, 'close-on-exec');

  // multishot recv with buffer selection
  assert.is(submitOne(a, ring, 200n, (s) => a.prepRecvMultishotSelect(s, fd, 1, 0)), 1);
  client.write('hello, ring');
  const rc = await reapUntil(a, ring, (all) => all.length >= 1);
  assert.is(rc[0].userData, 200n);
  assert.is(rc[0].res, 11);
  assert.ok(a.cqeHasBuffer(rc[0]));
  assert.ok(rc[0].flags & CQE_F.MORE);
  const bid = a.cqeBufferId(rc[0]);
  assert.ok(bid >= 0 && bid < 8);
  const rview = new Uint8Array(a.slabBuffer(rslab) as ArrayBuffer);
  assert.is(Buffer.from(rview.subarray(bid * 512, bid * 512 + 11)).toString(), 'hello, ring');
  // give the buffer back
  assert.is(a.bufRingAdd(br, rslab, bid * 512, 512, bid, 7, 0), 0);
  assert.is(a.bufRingAdvance(br, 1), 0);

  // send from a slab: bytes written through the view go out as they are
  const wslab = a.slabCreate(4096);
  const wview = new Uint8Array(a.slabBuffer(wslab) as ArrayBuffer);
  Buffer.from('zero-copy world').copy(wview, 100);
  assert.is(submitOne(a, ring, 300n, (s) => a.prepSend(s, fd, wslab, 100, 15, 0)), 1);
  const sc = await reapUntil(a, ring, (all) => all.some((c) => c.userData === 300n));
  assert.is(sc.find((c) => c.userData === 300n)?.res, 15);
  await until(() => got.data().length >= 15);
  assert.is(got.data().toString(), 'zero-copy world');

  // sendmsg gathers ranges of two slabs
  const w2 = a.slabCreate(64);
  Buffer.from('ABC').copy(new Uint8Array(a.slabBuffer(w2) as ArrayBuffer), 0);
  Buffer.from('-def-').copy(wview, 0);
  assert.is(submitOne(a, ring, 301n, (s) => a.prepSendmsg(s, fd, [
    { slab: w2, offset: 0, len: 3 }, { slab: wslab, offset: 0, len: 5 }, { slab: w2, offset: 1, len: 2 },
  ], 0)), 1);
  const mc = await reapUntil(a, ring, (all) => all.some((c) => c.userData === 301n));
  assert.is(mc.find((c) => c.userData === 301n)?.res, 10);
  await until(() => got.data().length >= 25);
  assert.is(got.data().toString().slice(15), 'ABC-def-BC');

  // cancel the multishot recv: it ends with -ECANCELED and no MORE
  assert.is(submitOne(a, ring, 400n, (s) => a.prepCancel64(s, 200n, 0)), 1);
  const cc = await reapUntil(a, ring, (all) => all.some((c) => c.userData === 200n) && all.some((c) => c.userData === 400n));
  const target = cc.find((c) => c.userData === 200n) as Cqe;
  assert.is(target.res, -E.ECANCELED);
  assert.is(target.flags & CQE_F.MORE, 0);
  assert.is(cc.find((c) => c.userData === 400n)?.res, 0);

  // half-close: the client sees the end of the stream
  assert.is(a.shutdown(fd, 1), 0);
  await got.ended;
  assert.is(a.close(fd), 0);
  assert.is(a.ownedFds(), owned0);
  client.destroy();

  // cancel the accept, then tear down
  assert.is(submitOne(a, ring, 401n, (s) => a.prepCancel64(s, 100n, 0)), 1);
  await reapUntil(a, ring, (all) => all.some((c) => c.userData === 100n && c.res === -E.ECANCELED));
  assert.is((a.ringInfo(ring) as { live: number }).live, 0, 'everything completed');
  assert.is(a.destroyRing(ring), 0);
  for (const s of [rslab, wslab, w2]) assert.is(a.slabDestroy(s), 0);
  assert.is(a.close(lfd), 0);
});

test('IPv6: bind6 on ::1, accept a node:net client', async () => {
  const ring = a.createRing(8);
  const lfd = a.socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
  assert.is(a.setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, 1), 0);
  assert.is(a.bind6(lfd, { port: 0, flowinfo: 0, hi: 0n, lo: 1n, scopeId: 0 }), 0);
  assert.is(a.listen(lfd, 8), 0);
  const name = a.getsockname(lfd);
  assert.equal([name.ret, name.family, name.hi, name.lo], [0, AF_INET6, 0n, 1n]);
  submitOne(a, ring, 1n, (s) => a.prepMultishotAccept(s, lfd, 0));
  const client = await connect(name.port, '::1');
  const cq = await reapUntil(a, ring, (all) => all.length >= 1);
  const fd = cq[0].res;
  assert.ok(fd > 2);
  const peer = a.getpeername(fd);
  assert.equal([peer.family, peer.port, peer.lo], [AF_INET6, client.localPort, 1n]);
  assert.is(a.close(fd), 0);
  client.destroy();
  a.destroyRing(ring);
  assert.is(a.close(lfd), 0);
});

test('incremental buffer consumption: IORING_CQE_F_BUF_MORE', async () => {
  const ring = a.createRing(8);
  const [lfd, port] = listen4(a);
  const slab = a.slabCreate(4096);
  const br = a.setupBufRing(ring, 1, 7, 2 /* IOU_PBUF_RING_INC */);
  assert.ok(br > 0, `setup INC: ${br}`);
  assert.is(a.bufRingAdd(br, slab, 0, 4096, 0, 0, 0), 0);
  assert.is(a.bufRingAdvance(br, 1), 0);
  submitOne(a, ring, 1n, (s) => a.prepMultishotAccept(s, lfd, 0));
  const client = await connect(port);
  const fd = (await reapUntil(a, ring, (all) => all.length >= 1))[0].res;
  submitOne(a, ring, 2n, (s) => a.prepRecvMultishotSelect(s, fd, 7, 0));
  const view = new Uint8Array(a.slabBuffer(slab) as ArrayBuffer);
  const cqes: Cqe[] = [];
  for (const msg of ['first-chunk', 'second']) {
    client.write(msg);
    cqes.push(...await reapUntil(a, ring, (all) => all.length >= 1));
  }
  assert.is(cqes.length, 2);
  for (const c of cqes) {
    assert.ok(c.flags & CQE_F.BUFFER);
    assert.is(a.cqeBufferId(c), 0);
    assert.ok(c.flags & CQE_F.BUF_MORE, `BUF_MORE in ${c.flags.toString(16)}`);
  }
  // the kernel kept filling the same buffer at increasing offsets
  assert.is(Buffer.from(view.subarray(0, 17)).toString(), 'first-chunksecond');
  client.destroy();
  await reapUntil(a, ring, (all) => all.some((c) => c.userData === 2n && !(c.flags & CQE_F.MORE)));
  assert.is(a.close(fd), 0);
  a.destroyRing(ring);
  assert.is(a.slabDestroy(slab), 0);
  a.close(lfd);
});

test('DEFER_TASKRUN: an accept CQE is visible only after GETEVENTS', async () => {
  const ring = a.createRingEx(8, SETUP.SINGLE_ISSUER | SETUP.DEFER_TASKRUN, -1, 0);
  const [lfd, port] = listen4(a);
  submitOne(a, ring, 9n, (s) => a.prepMultishotAccept(s, lfd, 0));
  const client = await connect(port);
  await sleep(20);
  assert.is(a.cqReady(ring), 0, 'deferred task work not run yet');
  assert.is(a.enter(ring, 0, 1, GETEVENTS, ts(1000)), 0);
  assert.is(a.cqReady(ring), 1);
  const c = parseCqes(a.peekBatchCqe(ring, 4))[0];
  assert.is(c.userData, 9n);
  a.cqAdvance(ring, 1);
  assert.is(a.close(c.res), 0);
  client.destroy();
  a.destroyRing(ring);
  a.close(lfd);
});

test('accepted fds nobody read are closed: by cq-advance and by destroy-ring', async () => {
  const before = fdCount();
  const owned = a.ownedFds();
  const [lfd, port] = listen4(a);
  for (const how of ['advance', 'destroy'] as const) {
    const ring = a.createRing(8);
    submitOne(a, ring, 5n, (s) => a.prepMultishotAccept(s, lfd, 0));
    const clients = [await connect(port), await connect(port)];
    const closed = clients.map((c) => new Promise<void>((r) => c.on('close', () => r())));
    clients.forEach((c) => c.resume());
    for (let i = 0; i < 500 && a.cqReady(ring) < 2; i++) await sleep(2);
    assert.is(a.cqReady(ring), 2);
    if (how === 'advance') assert.is(a.cqAdvance(ring, 2), 0);
    assert.is(a.destroyRing(ring), 0);
    await Promise.all(closed);  // the server side was closed
    assert.is(a.ownedFds(), owned + 1, 'only the listener');
  }
  a.close(lfd);
  await tick();
  assert.is(fdCount(), before);
});

test('a non-accept op sharing an in-flight accept\'s user_data is refused at submit, and stays prepared', async () => {
  const ring = a.createRing(8);
  const [lfd] = listen4(a);
  assert.is(submitOne(a, ring, 7n, (s) => a.prepMultishotAccept(s, lfd, 0)), 1);
  // A NOP under the accept's user_data: its res 0 would read as fd 0.
  const nop = a.getSqe(ring);
  assert.is(a.sqeSetData64(nop, 7n), 0);
  assert.is(a.submit(ring), -E.EINVAL, 'refused: the CQE would be ambiguous');
  assert.is(a.enter(ring, 1, 0, 0, undefined), -E.EINVAL, 'enter too');
  assert.is(a.sqReady(ring), 1, 'nothing was flushed');
  assert.is(a.sqeSetData64(nop, 8n), 0, 'the handle is still live: the guest may re-tag it');
  assert.is(a.submit(ring), 1);
  const cq = reapNow(a, ring);
  assert.equal(cq, [{ userData: 8n, res: 0, flags: 0 }]);
  assert.is(a.fcntl(0, 1, 0n), -E.EBADF, 'fd 0 was not handed to the guest');
  submitOne(a, ring, 9n, (s) => a.prepCancel64(s, 7n, 0));
  await reapUntil(a, ring, (all) => all.some((c) => c.userData === 7n));
  assert.is((a.ringInfo(ring) as { userData: number }).userData, 0);
  a.destroyRing(ring);
  a.close(lfd);
});

test('an accept cannot join a user_data held by other operations (in flight or in the same batch)', async () => {
  const ring = a.createRing(16);
  const [lfd, port] = listen4(a);
  const U = 0x77n;
  // In the same batch: a NOP, then an accept.
  const nop = a.getSqe(ring);
  a.sqeSetData64(nop, U);
  const acc = a.getSqe(ring);
  assert.is(a.prepMultishotAccept(acc, lfd, 0), 0);
  a.sqeSetData64(acc, U);
  assert.is(a.submit(ring), -E.EINVAL);
  assert.is((a.ringInfo(ring) as { live: number }).live, 0, 'a refused flush records nothing');
  assert.is(a.sqeSetData64(acc, U + 1n), 0);
  assert.is(a.submit(ring), 2);
  const client = await connect(port);
  const cq = await reapUntil(a, ring, (all) => all.some((c) => c.userData === U + 1n && c.res > 2));
  const fd = (cq.find((c) => c.userData === U + 1n && c.res > 2) as Cqe).res;
  assert.ok(a.fcntl(fd, 1, 0n) >= 0, 'a connection accepted on our listener is the guest\'s');
  // In flight: a recv under the accept's user_data is refused.
  const slab = a.slabCreate(4096);
  const br = a.setupBufRing(ring, 1, 3, 0);
  a.bufRingAdd(br, slab, 0, 4096, 0, 0, 0);
  a.bufRingAdvance(br, 1);
  assert.is(submitOne(a, ring, U + 1n, (s) => a.prepRecvMultishotSelect(s, fd, 3, 0)), -E.EINVAL);
  assert.is(a.sqReady(ring), 1);
  const nodeFd = (client as unknown as { _handle: { fd: number } })._handle.fd;
  assert.is(a.fcntl(nodeFd, 1, 0n), -E.EBADF, 'Node\'s socket stays out of reach');
  client.destroy();
  assert.is(a.close(fd), 0, 'its prepared recv became a NOP');
  assert.is(a.submit(ring), 1);
  a.destroyRing(ring);
  a.slabDestroy(slab);
  a.close(lfd);
});

test('a slab destroyed while a send may be in flight stays mapped until the send completes', async () => {
  const ring = a.createRing(8);
  const [lfd, port] = listen4(a);
  submitOne(a, ring, 1n, (s) => a.prepMultishotAccept(s, lfd, 0));
  const client = await connect(port);
  client.pause();
  const fd = (await reapUntil(a, ring, (all) => all.length >= 1))[0].res;
  submitOne(a, ring, 2n, (s) => a.prepCancel64(s, 1n, 0));
  await reapUntil(a, ring, (all) => all.some((c) => c.userData === 1n));
  const size = 16 << 20;  // far more than the socket buffers: the send waits for the reader
  const slab = a.slabCreate(size);
  const view = new Uint8Array(a.slabBuffer(slab) as ArrayBuffer);
  for (let i = 0; i < size; i += 4096) view[i] = (i >>> 12) & 0xff;
  submitOne(a, ring, 3n, (s) => a.prepSend(s, fd, slab, 0, size, 0x100 /* MSG_WAITALL: all or error */));
  await sleep(20);
  assert.is(reapNow(a, ring).length, 0, 'send still in flight');
  assert.is(a.slabDestroy(slab), 0);
  assert.is(view.length, 0, 'JS view detached');
  assert.is((a.ringInfo(ring) as { quarantined: number }).quarantined, 1);
  // the reader drains: the kernel still reads the (quarantined) memory
  let received = 0;
  let ok = true;
  client.on('data', (d: Buffer) => {
    for (let i = (4096 - (received % 4096)) % 4096; i < d.length; i += 4096) {
      if (d[i] !== (((received + i) >>> 12) & 0xff)) ok = false;
    }
    received += d.length;
  });
  client.resume();
  const done: Cqe[] = [];
  for (let i = 0; i < 2000 && done.length === 0; i++) {
    await sleep(2);
    done.push(...reapNow(a, ring));
  }
  assert.is(done.length, 1);
  assert.is(done[0].res, size);
  await until(() => received >= size);
  assert.ok(ok, 'bytes intact');
  assert.is((a.ringInfo(ring) as { quarantined: number }).quarantined, 0, 'released once the ring is idle');
  client.destroy();
  a.close(fd);
  a.destroyRing(ring);
  a.close(lfd);
});

test('nothing leaked by this file', async () => {
  await sleep(20);
  assert.is(a.ownedFds(), 0);
  assert.is(fdCount(), fds0);
});

test.run();
