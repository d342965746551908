// Every import of `interface host`, called from Wasm (the probe guest, C
// compiled like the core) against real io_uring through the native backend.
// The last test checks, from the counting wrapper, that each import was
// reached from Wasm at least once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { performance } from 'node:perf_hooks';
import {
  AF_INET, AF_INET6, CQE_F_BUF_MORE, CQE_F_BUFFER, CQE_F_MORE, EAFNOSUPPORT, EBADF, ECANCELED, EINVAL,
  ENTER_GETEVENTS, ETIME, F_GETFL, F_SETFL, LOOPBACK4, MS, MSG_NOSIGNAL, O_NONBLOCK, PBUF_RING_INC,
  SETUP_DEFER_TASKRUN, SETUP_SINGLE_ISSUER, SETUP_SQ_AFF, SETUP_SQPOLL, SHUT_WR, SOCK_CLOEXEC,
  SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, big, camel, collect, connect, hostImportNames, listenFromWasm, loadProbe, until,
} from './probe.ts';
import type { Client, SeenCqe } from './probe.ts';

const { backend, probe: p, counts } = loadProbe();

const ACCEPT = 0xacc0_0000_0000_0000n;
const RECV = 0x7ec0_0000_0000_0000n;
const SEND = 0x5e00_0000_0000_0000n;
const CANCEL = 0xca00_0000_0000_0000n;

/** get-sqe + prep (the callback) + sqe-set-data64, asserting each step. */
function sqe(ring: number, data: bigint, prep: (s: number) => number = () => 0): number {
  const s = p.getSqe(ring);
  assert.ok(s >= 0, `get-sqe = ${s}`);
  assert.is(prep(s), 0, 'prep');
  assert.is(p.sqeSetData64(s, data), 0, 'sqe-set-data64');
  return s;
}

/** A NOP through `ring` and back: submit, then wait-cqe-timeout. */
function nopRoundTrip(ring: number, data: bigint): SeenCqe {
  sqe(ring, data);
  assert.is(p.submit(ring), 1, 'submit');
  const c = p.waitCqeTimeout(ring, 1000n * MS);
  assert.is(c.ret, 0, `wait-cqe-timeout: ${JSON.stringify(c, big)}`);
  assert.is(c.userData, data);
  assert.is(c.data64, data, 'cqe-get-data64 round trip');
  assert.is(p.cqeSeen(ring), 0, 'cqe-seen');
  return c;
}

test('create-ring, get-ring-flags, destroy-ring', () => {
  const r = p.createRing(64);
  assert.ok(r >= 0, `create-ring = ${r}`);
  const f = p.getRingFlags(r);
  assert.ok(f >= 0n, `get-ring-flags = ${f}`);
  assert.is(f & BigInt(SETUP_SQPOLL | SETUP_DEFER_TASKRUN), 0n, 'a plain ring has neither SQPOLL nor DEFER_TASKRUN');
  nopRoundTrip(r, 1n);
  assert.is(p.destroyRing(r), 0);
  assert.is(p.destroyRing(r), EBADF, 'destroying twice');
  assert.is(p.getRingFlags(r), BigInt(EBADF));
});

test('create-ring-ex: SQPOLL, SQPOLL|SQ_AFF, SINGLE_ISSUER|DEFER_TASKRUN are reflected by get-ring-flags and work', () => {
  const cases: Array<[string, number, number]> = [
    ['SQPOLL', SETUP_SQPOLL, -1],
    ['SQPOLL|SQ_AFF cpu 0', SETUP_SQPOLL | SETUP_SQ_AFF, 0],
    ['SINGLE_ISSUER|DEFER_TASKRUN', SETUP_SINGLE_ISSUER | SETUP_DEFER_TASKRUN, -1],
  ];
  for (const [name, flags, cpu] of cases) {
    const r = p.createRingEx(32, flags, cpu, 10);
    assert.ok(r >= 0, `${name}: create-ring-ex = ${r}`);
    const got = p.getRingFlags(r);
    assert.is(got & BigInt(flags), BigInt(flags), `${name}: flags 0x${got.toString(16)}`);
    nopRoundTrip(r, 0xf1a9n);
    assert.is(p.destroyRing(r), 0, name);
  }
  assert.is(p.createRingEx(32, 0x8000_0000, -1, 0), EINVAL, 'unknown flag bit');
});

test('sq-ready, cq-ready, submit-and-wait, wait-cqe, cqe-seen, peek-batch-cqe, cq-advance, user data round trip', () => {
  const r = p.createRing(16);
  const base = 0xfeed_face_0000_0000n; // high bit set: u64 must not turn negative
  for (let i = 0; i < 3; i++) sqe(r, base + BigInt(i));
  assert.is(p.sqReady(r), 3, 'three prepared SQEs');
  assert.is(p.cqReady(r), 0);
  assert.is(p.submitAndWait(r, 3), 3);
  assert.is(p.sqReady(r), 0);
  assert.is(p.cqReady(r), 3);
  const first = p.waitCqe(r);
  assert.is(first.ret, 0);
  assert.is(first.userData, base);
  assert.is(first.data64, base);
  assert.is(first.hasBuffer, false);
  assert.is(first.bid, EINVAL, 'cqe-buffer-id without a buffer');
  assert.is(p.cqeSeen(r), 0);
  assert.is(p.cqReady(r), 2);
  const rest = p.reap(r, 64);
  assert.equal(rest.map((c) => c.data64), [base + 1n, base + 2n]);
  assert.is(p.cqReady(r), 2, 'peek consumes nothing');
  assert.is(p.cqAdvance(r, 3), EINVAL, 'advance past what is ready');
  assert.is(p.cqAdvance(r, 2), 0);
  assert.is(p.cqReady(r), 0);
  assert.is(p.reap(r, 64).length, 0);
  assert.is(p.destroyRing(r), 0);
});

test('timeouts: -ETIME from wait-cqe-timeout, wait-cqes, submit-and-wait-timeout, enter with a timespec', () => {
  const r = p.createRing(8);
  const timed = (what: string, f: () => number) => {
    const t0 = performance.now();
    const ret = f();
    const ms = performance.now() - t0;
    assert.is(ret, ETIME, what);
    assert.ok(ms >= 4 && ms < 1000, `${what} waited ${ms.toFixed(2)} ms for a 5 ms timeout`);
  };
  timed('wait-cqe-timeout', () => p.waitCqeTimeout(r, 5n * MS).ret);
  timed('wait-cqes', () => p.waitCqes(r, 2, 5n * MS).ret);
  timed('submit-and-wait-timeout', () => p.submitAndWaitTimeout(r, 1, 5n * MS));
  timed('enter(GETEVENTS, ts)', () => p.enter(r, 0, 1, ENTER_GETEVENTS, 5n * MS));
  assert.is(p.destroyRing(r), 0);
});

test('enter with and without a timespec submits and reaps', () => {
  const r = p.createRing(8);
  sqe(r, 11n);
  assert.is(p.sqReady(r), 1);
  assert.is(p.enter(r, 1, 0, 0, -1n), 1, 'enter without timespec submits one');
  assert.is(p.sqReady(r), 0);
  sqe(r, 12n);
  assert.is(p.enter(r, 1, 2, ENTER_GETEVENTS, 1000n * MS), 1, 'enter with timespec submits one and waits for both');
  assert.is(p.cqReady(r), 2);
  assert.equal(p.reap(r, 8).map((c) => c.data64), [11n, 12n]);
  assert.is(p.cqAdvance(r, 2), 0);
  assert.is(p.destroyRing(r), 0);
});

test('inet-pton for both families', () => {
  const v4 = p.inetPton(AF_INET, '127.0.0.1');
  assert.equal([v4.ret, v4.family, v4.hi, v4.lo], [1, AF_INET, 0n, 0x7f000001n]);
  const v6 = p.inetPton(AF_INET6, '::1');
  assert.equal([v6.ret, v6.family, v6.hi, v6.lo], [1, AF_INET6, 0n, 1n]);
  const doc = p.inetPton(AF_INET6, '2001:db8::ff00:42:8329');
  assert.equal([doc.ret, doc.hi, doc.lo], [1, 0x2001_0db8_0000_0000n, 0x0000_ff00_0042_8329n]);
  assert.is(p.inetPton(AF_INET, 'not an address').ret, 0);
  assert.is(p.inetPton(AF_INET, '').ret, 0);
  assert.is(p.inetPton(99, '1.2.3.4').ret, EAFNOSUPPORT);
});

test('socket, setsockopt, fcntl, bind, listen, getsockname (port 0 -> real port), shutdown, close', () => {
  const fd = p.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  assert.ok(fd >= 0, `socket = ${fd}`);
  const fl = p.fcntl(fd, F_GETFL, 0n);
  assert.ok(fl >= 0 && (fl & O_NONBLOCK) !== 0, `F_GETFL = ${fl}`);
  assert.is(p.fcntl(fd, F_SETFL, BigInt(fl & ~O_NONBLOCK)), 0);
  assert.is(p.fcntl(fd, F_GETFL, 0n) & O_NONBLOCK, 0, 'F_SETFL cleared O_NONBLOCK');
  assert.is(p.fcntl(fd, F_SETFL, BigInt(fl)), 0);
  assert.is(p.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1), 0);
  assert.is(p.bind(fd, 0, LOOPBACK4), 0);
  assert.is(p.listen(fd, 16), 0);
  const name = p.getsockname(fd);
  assert.is(name.ret, 0);
  assert.is(name.family, AF_INET);
  assert.is(name.lo, 0x7f000001n);
  assert.ok(name.port > 0, 'the kernel picked a port');
  assert.is(p.shutdown(fd, 2), 0, 'shutdown of a listener');
  assert.is(p.close(fd), 0);
  assert.is(p.close(fd), EBADF, 'closed twice');
});

test('IPv4 + IPv6 listeners: multishot accept, getpeername, multishot recv with buffer selection, send, sendmsg, cancel, shutdown', async () => {
  const r = p.createRing(64);
  assert.ok(r >= 0);
  const l4 = listenFromWasm(p, 4);
  const l6 = listenFromWasm(p, 6);
  const v6name = p.getsockname(l6.fd);
  assert.equal([v6name.family, v6name.hi, v6name.lo], [AF_INET6, 0n, 1n]);

  // A provided-buffer ring of 16 x 4 KiB over one slab.
  const BUF = 4096, N = 16, BGID = 7;
  const slab = p.slabCreate(BUF * N);
  assert.ok(slab >= 0, `slab-create = ${slab}`);
  const br = p.setupBufRing(r, N, BGID, 0);
  assert.ok(br >= 0, `setup-buf-ring = ${br}`);
  for (let bid = 0; bid < N; bid++) assert.is(p.bufRingAdd(br, slab, bid * BUF, BUF, bid, N - 1, bid), 0);
  assert.is(p.bufRingAdvance(br, N), 0);

  for (const l of [l4, l6]) sqe(r, ACCEPT | BigInt(l.fd), (s) => p.prepMultishotAccept(s, l.fd, SOCK_NONBLOCK | SOCK_CLOEXEC));
  assert.is(p.submit(r), 2);

  const clients: Client[] = [
    await connect(l4.port, '127.0.0.1'),
    await connect(l4.port, '127.0.0.1'),
    await connect(l6.port, '::1'),
  ];
  const accepts = (await collect(p, r, (all) => all.filter((c) => (c.userData & ~0xffffn) === ACCEPT).length >= 3))
    .filter((c) => (c.userData & ~0xffffn) === ACCEPT);
  assert.is(accepts.length, 3);
  // fd -> client, by the peer port getpeername reports.
  const conns = new Map<number, Client>();
  for (const a of accepts) {
    assert.ok(a.res >= 0, `accept res ${a.res}`);
    assert.ok(a.flags & CQE_F_MORE, 'multishot accept stays armed');
    const peer = p.getpeername(a.res);
    assert.is(peer.ret, 0);
    const c = clients.find((k) => k.sock.localPort === peer.port);
    assert.ok(c, `a client with local port ${peer.port}`);
    assert.is(peer.family, c!.sock.remoteFamily === 'IPv6' ? AF_INET6 : AF_INET);
    const local = p.getsockname(a.res);
    assert.is(local.port, c!.sock.remotePort);
    conns.set(a.res, c!);
  }
  assert.is(backend.ownedFds(), 5, 'two listeners + three accepted');

  // Recv with buffer selection on each connection: one-shot on the first,
  // multishot on the others.
  const oneshotFd = [...conns.keys()].at(-1)!; // not fdA: its multishot recv is cancelled below
  for (const fd of conns.keys()) {
    sqe(r, RECV | BigInt(fd), (s) => (fd === oneshotFd ? p.prepRecvSelect(s, fd, BGID, 0) : p.prepRecvMultishotSelect(s, fd, BGID, 0)));
  }
  assert.is(p.submit(r), 3);
  const payload = new Map<number, Buffer>();
  for (const [fd, c] of conns) {
    payload.set(fd, Buffer.from(`hello from the client of fd ${fd}, ${'x'.repeat(fd)}`));
    c.sock.write(payload.get(fd)!);
  }
  const isRecv = (c: SeenCqe) => (c.userData & ~0xffffn) === RECV;
  const recvs = (await collect(p, r, (all) => all.filter(isRecv).length >= 3)).filter(isRecv);
  const view = new Uint8Array(backend.slabBuffer(slab));
  for (const c of recvs) {
    const fd = Number(c.userData & 0xffffn);
    assert.ok(c.res > 0, `recv res ${c.res}`);
    if (fd === oneshotFd) assert.not.ok(c.flags & CQE_F_MORE, 'a one-shot recv ends with its CQE');
    else assert.ok(c.flags & CQE_F_MORE, 'multishot recv stays armed');
    assert.ok(c.flags & CQE_F_BUFFER);
    assert.is(c.hasBuffer, true, 'cqe-has-buffer');
    assert.is(c.bid, c.flags >>> 16, 'cqe-buffer-id');
    assert.ok(c.bid >= 0 && c.bid < N);
    const got = Buffer.from(view.subarray(c.bid * BUF, c.bid * BUF + c.res));
    assert.is(got.toString(), payload.get(fd)!.toString(), 'bytes read back through slabBuffer');
    // Give the buffer back.
    assert.is(p.bufRingAdd(br, slab, c.bid * BUF, BUF, c.bid, N - 1, 0), 0);
    assert.is(p.bufRingAdvance(br, 1), 0);
  }

  // prep-send and prep-sendmsg from a write slab the JS side filled.
  const wslab = p.slabCreate(4096);
  assert.ok(wslab >= 0);
  const w = new Uint8Array(backend.slabBuffer(wslab));
  Buffer.from('pong:').copy(w, 0);
  Buffer.from('AAAA').copy(w, 100);
  Buffer.from('BBB').copy(w, 200);
  Buffer.from('CC').copy(w, 4094);
  const [fdA, fdB] = [...conns.keys()];
  sqe(r, SEND | 1n, (s) => p.prepSend(s, fdA!, wslab, 0, 5, MSG_NOSIGNAL));
  sqe(r, SEND | 2n, (s) => p.prepSendmsg(s, fdB!, [
    { slab: wslab, offset: 0, len: 5 },
    { slab: wslab, offset: 100, len: 4 },
    { slab: wslab, offset: 200, len: 3 },
    { slab: wslab, offset: 4094, len: 2 },
  ], MSG_NOSIGNAL));
  assert.is(p.submit(r), 2);
  const sends = (await collect(p, r, (all) => all.filter((c) => (c.userData & ~0xffffn) === SEND).length >= 2))
    .filter((c) => (c.userData & ~0xffffn) === SEND);
  assert.equal(sends.map((c) => [c.data64 & 0xffn, c.res]).sort(), [[1n, 5], [2n, 14]]);
  await until(() => conns.get(fdA!)!.received().length >= 5 && conns.get(fdB!)!.received().length >= 14, 'clients receive');
  assert.is(conns.get(fdA!)!.received().toString(), 'pong:');
  assert.is(conns.get(fdB!)!.received().toString(), 'pong:AAAABBBCC');

  // prep-cancel64: the multishot recv on fdA and both accepts end with -ECANCELED.
  const targets = [RECV | BigInt(fdA!), ACCEPT | BigInt(l4.fd), ACCEPT | BigInt(l6.fd)];
  for (const t of targets) sqe(r, CANCEL | (t & 0xffffn), (s) => p.prepCancel64(s, t, 0));
  assert.is(p.submit(r), 3);
  const done = await collect(p, r, (all) => targets.every((t) => all.some((c) => c.userData === t)) &&
    all.filter((c) => (c.userData & ~0xffffn) === CANCEL).length >= 3);
  for (const t of targets) {
    const c = done.find((k) => k.userData === t)!;
    assert.is(c.res, ECANCELED, `target 0x${t.toString(16)} completed with ${c.res}`);
    assert.is(c.flags & CQE_F_MORE, 0, 'a cancelled multishot ends');
  }
  for (const c of done.filter((k) => (k.userData & ~0xffffn) === CANCEL)) assert.is(c.res, 0, 'cancel found its target');

  // shutdown(SHUT_WR) reaches the client as an end of stream.
  assert.is(p.shutdown(fdA!, SHUT_WR), 0);
  await conns.get(fdA!)!.ended;

  for (const fd of conns.keys()) assert.is(p.close(fd), 0);
  assert.is(p.close(l4.fd), 0);
  assert.is(p.close(l6.fd), 0);
  assert.is(p.freeBufRing(r, br), 0);
  assert.is(p.freeBufRing(r, br), EBADF);
  assert.is(p.destroyRing(r), 0);
  assert.is(p.slabDestroy(slab), 0);
  assert.is(p.slabDestroy(wslab), 0);
  assert.is(p.slabDestroy(wslab), EBADF);
  assert.is(backend.ownedFds(), 0);
  for (const c of clients) c.sock.destroy();
});

test('incremental consumption (IOU_PBUF_RING_INC): several messages in one buffer at increasing offsets', async () => {
  const r = p.createRing(32);
  const l = listenFromWasm(p, 4);
  const BUF = 4096, N = 2, BGID = 3;
  const slab = p.slabCreate(BUF * N);
  const br = p.setupBufRing(r, N, BGID, PBUF_RING_INC);
  assert.ok(br >= 0, `setup-buf-ring(INC) = ${br}`);
  for (let bid = 0; bid < N; bid++) assert.is(p.bufRingAdd(br, slab, bid * BUF, BUF, bid, N - 1, bid), 0);
  assert.is(p.bufRingAdvance(br, N), 0);
  sqe(r, ACCEPT, (s) => p.prepMultishotAccept(s, l.fd, SOCK_NONBLOCK | SOCK_CLOEXEC));
  assert.is(p.submit(r), 1);
  const client = await connect(l.port, '127.0.0.1');
  const acc = (await collect(p, r, (all) => all.some((c) => c.userData === ACCEPT))).find((c) => c.userData === ACCEPT)!;
  const fd = acc.res;
  assert.ok(fd >= 0);
  sqe(r, RECV, (s) => p.prepRecvMultishotSelect(s, fd, BGID, 0));
  assert.is(p.submit(r), 1);

  const view = new Uint8Array(backend.slabBuffer(slab));
  const offsets: number[] = [];
  let bid = -1, offset = 0;
  for (let i = 0; i < 5; i++) {
    const msg = Buffer.from(`message ${i} ${'.'.repeat(i * 7)}`);
    client.sock.write(msg);
    const c = (await collect(p, r, (all) => all.some((k) => k.userData === RECV))).find((k) => k.userData === RECV)!;
    assert.is(c.res, msg.length, `recv ${i}`);
    assert.is(c.hasBuffer, true);
    assert.ok(c.flags & CQE_F_BUF_MORE, `IORING_CQE_F_BUF_MORE on recv ${i}: flags 0x${c.flags.toString(16)}`);
    if (bid === -1) bid = c.bid;
    assert.is(c.bid, bid, 'the same buffer');
    assert.is(Buffer.from(view.subarray(bid * BUF + offset, bid * BUF + offset + c.res)).toString(), msg.toString(),
      `message ${i} at offset ${offset}`);
    offsets.push(offset);
    offset += c.res;
  }
  assert.ok(offsets.every((o, i) => i === 0 || o > offsets[i - 1]!), `increasing offsets ${offsets}`);
  assert.is(p.close(fd), 0);
  assert.is(p.close(l.fd), 0);
  assert.is(p.destroyRing(r), 0, 'destroy-ring also frees its buffer rings');
  assert.is(p.bufRingAdvance(br, 1), EBADF, 'the buffer ring went with its ring');
  assert.is(p.slabDestroy(slab), 0);
  client.sock.destroy();
});

test('pin-current-thread-to-cpu: 0 works, an absurd cpu fails, the process goes on', () => {
  assert.is(p.pinCurrentThreadToCpu(0), 0);
  assert.ok(p.pinCurrentThreadToCpu(100_000) < 0);
  assert.ok(p.pinCurrentThreadToCpu(-1) < 0);
  const r = p.createRing(4);
  nopRoundTrip(r, 42n);
  assert.is(p.destroyRing(r), 0);
});

test('fused queue-*: accept, multishot and one-shot recv, send, sendmsg, cancel, each one host call; an error queues nothing', async () => {
  const r = p.createRing(16);
  const l = listenFromWasm(p, 4);
  const BUF = 4096, N = 4, BGID = 9;
  const slab = p.slabCreate(BUF * N);
  const br = p.setupBufRing(r, N, BGID, 0);
  assert.ok(slab >= 0 && br >= 0);
  for (let bid = 0; bid < N; bid++) assert.is(p.bufRingAdd(br, slab, bid * BUF, BUF, bid, N - 1, bid), 0);
  assert.is(p.bufRingAdvance(br, N), 0);
  const QA = ACCEPT | 0x10n, R1 = RECV | 0x11n, R2 = RECV | 0x12n;
  const kind = (c: SeenCqe): bigint => c.userData & ~0xffn;
  assert.is(p.queueMultishotAccept(r, l.fd, SOCK_NONBLOCK | SOCK_CLOEXEC, QA), 0);
  assert.is(p.queueMultishotAccept(r, l.fd, 0x1, QA), EINVAL, 'an unknown flag');
  assert.is(p.sqReady(r), 1, 'the refused call queued nothing');
  assert.is(p.submit(r), 1);
  const c1 = await connect(l.port, '127.0.0.1');
  const c2 = await connect(l.port, '127.0.0.1');
  const accepted = (await collect(p, r, (all) => all.filter((c) => c.userData === QA).length >= 2)).filter((c) => c.userData === QA);
  assert.ok(accepted.every((c) => c.res >= 0 && (c.flags & CQE_F_MORE) !== 0), 'multishot accept, token verbatim');
  const [fd1, fd2] = accepted.map((c) => c.res) as [number, number];

  // fd1: multishot recv; fd2: one-shot recv.
  assert.is(p.queueRecvMultishotSelect(r, fd1, BGID, 0, R1), 0);
  assert.is(p.queueRecvSelect(r, fd2, BGID, 0, R2), 0);
  assert.is(p.submit(r), 2);
  c1.sock.write('one');
  c2.sock.write('two');
  const recvs = (await collect(p, r, (all) => all.filter((c) => kind(c) === RECV).length >= 2))
    .filter((c) => kind(c) === RECV);
  const view = new Uint8Array(backend.slabBuffer(slab));
  for (const c of recvs) {
    assert.ok(c.res > 0 && c.hasBuffer, `recv res ${c.res}`);
    assert.is(Buffer.from(view.subarray(c.bid * BUF, c.bid * BUF + c.res)).toString(), c.userData === R1 ? 'one' : 'two');
    assert.is((c.flags & CQE_F_MORE) !== 0, c.userData === R1, 'multishot stays armed, one-shot ends');
  }

  // queue-send and queue-sendmsg from a write slab.
  const wslab = p.slabCreate(4096);
  const w = new Uint8Array(backend.slabBuffer(wslab));
  Buffer.from('fused:').copy(w, 0);
  Buffer.from('XY').copy(w, 64);
  assert.is(p.queueSend(r, fd1, wslab, 0, 6, MSG_NOSIGNAL, SEND | 0x11n), 0);
  assert.is(p.queueSendmsg(r, fd2, [{ slab: wslab, offset: 0, len: 6 }, { slab: wslab, offset: 64, len: 2 }], MSG_NOSIGNAL, SEND | 0x12n), 0);
  assert.is(p.queueSend(r, fd1, wslab, 4090, 16, MSG_NOSIGNAL, SEND | 0x13n), -14, 'a range past the slab: -EFAULT');
  assert.is(p.sqReady(r), 2);
  assert.is(p.submit(r), 2);
  const sends = (await collect(p, r, (all) => all.filter((c) => kind(c) === SEND).length >= 2))
    .filter((c) => kind(c) === SEND);
  assert.equal(sends.map((c) => [c.userData & 0xffn, c.res]).sort(), [[0x11n, 6], [0x12n, 8]]);
  await until(() => c1.received().length >= 6 && c2.received().length >= 8, 'clients receive');
  assert.is(c1.received().toString(), 'fused:');
  assert.is(c2.received().toString(), 'fused:XY');

  // queue-cancel64 ends the multishot recv and the accept.
  assert.is(p.queueCancel64(r, R1, 0, CANCEL | 0x11n), 0);
  assert.is(p.queueCancel64(r, QA, 0, CANCEL | 0x12n), 0);
  assert.is(p.submit(r), 2);
  const done = await collect(p, r, (all) => [R1, QA].every((t) => all.some((c) => c.userData === t && (c.flags & CQE_F_MORE) === 0)) &&
    all.filter((c) => kind(c) === CANCEL).length >= 2);
  for (const t of [R1, QA]) assert.is(done.find((c) => c.userData === t && (c.flags & CQE_F_MORE) === 0)!.res, ECANCELED);
  for (const c of done.filter((k) => kind(k) === CANCEL)) assert.is(c.res, 0, 'cancel found its target');

  for (const fd of [fd1, fd2, l.fd]) assert.is(p.close(fd), 0);
  assert.is(p.destroyRing(r), 0);
  assert.is(p.slabDestroy(slab), 0);
  assert.is(p.slabDestroy(wslab), 0);
  c1.sock.destroy();
  c2.sock.destroy();
});

test('every host import was called from Wasm', () => {
  const missing = hostImportNames().map(camel).filter((n) => !(counts.get(n)! > 0));
  assert.equal(missing, [], `never called: ${missing.join(', ')}`);
  assert.is(backend.ownedFds(), 0);
});

test.run();
