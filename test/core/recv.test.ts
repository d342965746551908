// Recv: multishot recv with buffer selection, re-armed when the kernel ends it,
// parked on -ENOBUFS until buffers come back (no byte lost), EOF and errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { E, EV, Harness, bytes, F_MORE } from './scripted-host.ts';

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

test('ENOBUFS parks the connection; it is re-armed once buffers return, and no byte is lost', () => {
  const h = new Harness({ bufferRingEntries: 4, recvBufferSize: 32 });
  h.listen();
  const { fd, conn } = h.connect();
  const stream = bytes(32 * 4 + 50, 7); // more than the ring holds
  const got: Uint8Array[] = [];
  const held: number[] = [];
  let sent = 0;
  // the app holds every chunk: the ring runs dry
  for (let i = 0; i < 4; i++) {
    assert.ok(h.k.recv(fd, stream.subarray(sent, sent + 32)) >= 0);
    sent += 32;
  }
  assert.is(h.k.recv(fd, stream.subarray(sent, sent + 25)), -1, 'the kernel found no buffer');
  const recvsBefore = h.k.submitted('recv', fd).length;
  for (const e of h.tick()) {
    if (e.kind === EV.DATA) { got.push(new Uint8Array(h.k.slabOf(), e.w2, e.w3).slice()); held.push(e.w1); }
  }
  const s = h.stats();
  assert.is(s.enobufs, 1n);
  assert.is(s.buffersApp, 4);
  assert.is(s.buffersKernel, 0);
  // no re-arm while the kernel has nothing to fill
  for (let i = 0; i < 3; i++) { h.tick(); h.r.submit(); }
  assert.is(h.k.submitted('recv', fd).length, recvsBefore, 'not re-armed into an empty ring');
  // one buffer back: published and the recv re-armed in the same flush
  const callsBefore = h.k.calls.length;
  assert.is(h.r.release(held.shift()!), 0);
  h.r.submit();
  assert.is(h.k.count('bufRingAdd', callsBefore), 1);
  assert.is(h.k.count('bufRingAdvance', callsBefore), 1);
  assert.is(h.k.submitted('recv', fd).length, recvsBefore + 1, 're-armed');
  // the bytes the kernel left in the socket arrive now, in order
  while (sent < stream.length) {
    const n = Math.min(32, stream.length - sent);
    const bid = h.k.recv(fd, stream.subarray(sent, sent + n));
    if (bid < 0) break;
    sent += n;
    for (const e of h.tick()) {
      if (e.kind === EV.DATA) { got.push(new Uint8Array(h.k.slabOf(), e.w2, e.w3).slice()); h.r.release(e.w1); }
    }
    h.r.submit();
  }
  for (const b of held) h.r.release(b);
  assert.is(sent, stream.length);
  assert.equal(concat(got), stream, 'every byte, once, in order');
  closeAll(h, fd, conn);
});

test('returns are batched: n releases in a tick are n adds and one advance', () => {
  const h = new Harness();
  h.listen();
  const { fd } = h.connect();
  const bids = [0, 1, 2, 3, 4].map((i) => h.k.recv(fd, bytes(8, i)));
  h.tick();
  const from = h.k.calls.length;
  for (const b of bids) h.r.release(b);
  assert.is(h.k.count('bufRingAdd', from), 0, 'release() itself makes no host call');
  const r = h.r.stats();
  assert.is(r.buffersReturning, 5);
  h.tick();
  assert.is(h.k.count('bufRingAdd', from), 5);
  assert.is(h.k.count('bufRingAdvance', from), 1);
  // the last released first: a warm buffer's pages are resident already
  assert.equal(h.k.available().slice(-5), [...bids].reverse());
});

test('a multishot recv that ends without F_MORE is re-armed, with its data delivered', () => {
  const h = new Harness();
  h.listen();
  const { fd, conn } = h.connect();
  const first = h.k.last('recv', fd);
  h.k.recv(fd, bytes(10), { more: false });
  const ev = h.tick();
  assert.equal(ev.map((e) => [e.kind, e.conn, e.w3]), [[EV.DATA, conn, 10]]);
  h.r.submit();
  const rearmed = h.k.submitted('recv', fd);
  assert.is(rearmed.length, 2);
  assert.is(rearmed[1]!.userData, first.userData, 'same token: same connection, same generation');
  // the re-armed recv keeps delivering
  h.k.recv(fd, bytes(4, 3));
  assert.is(h.tick().filter((e) => e.kind === EV.DATA).length, 1);
  assert.is(h.k.submitted('recv', fd).length, 2, 'F_MORE: no new SQE');
});

test('EOF ends the recv without re-arm; writes still go out; close after that is clean', () => {
  const h = new Harness();
  h.listen();
  const { fd, conn } = h.connect();
  const bid = h.k.recv(fd, bytes(6));
  h.k.recvEnd(fd, 0);
  const ev = h.tick();
  assert.equal(ev.map((e) => e.kind), [EV.DATA, EV.EOF]);
  h.r.submit();
  assert.is(h.k.submitted('recv', fd).length, 1, 'no re-arm after EOF');
  assert.is(h.r.write(conn, h.r.recvSlab(), ev[0]!.w2, 6), 0);
  h.r.release(bid);
  h.r.submit();
  h.r.close(conn, false); // graceful: waits for the send
  assert.equal(h.tick(), []);
  assert.ok(h.k.fds.has(fd));
  h.k.sendDone(fd, 6);
  const end = h.tick();
  assert.equal(end.map((e) => [e.kind, e.w1]), [[EV.SENT, 1], [EV.CLOSED, 0]]);
  assert.not.ok(h.k.fds.has(fd));
  assert.is(h.k.submitted('cancel').length, 0, 'nothing left to cancel after EOF');
});

test('a recv error closes the connection with that errno, once', () => {
  const h = new Harness();
  h.listen();
  const { fd, conn } = h.connect();
  h.k.recvEnd(fd, -E.ECONNRESET);
  const ev = h.tick();
  assert.equal(ev.map((e) => [e.kind, e.conn, e.w1]), [[EV.CLOSED, conn, E.ECONNRESET]]);
  assert.not.ok(h.k.fds.has(fd));
  assert.is(h.r.write(conn, h.r.recvSlab(), 0, 1), -E.EBADF);
  assert.is(h.r.close(conn, false), -E.EBADF, 'closed connections cannot be closed again');
  assert.is(h.stats().closed, 1n);
});

test('ENOBUFS while the multishot goes on (F_MORE) is counted but needs no re-arm', () => {
  const h = new Harness();
  h.listen();
  const { fd } = h.connect();
  h.k.push(h.k.last('recv', fd).userData, -E.ENOBUFS, F_MORE);
  h.tick();
  h.r.submit();
  assert.is(h.stats().enobufs, 1n);
  assert.is(h.k.submitted('recv', fd).length, 1);
});

test('CQEs in the overflow backlog are reaped by the same tick (no wake-up would come for them)', () => {
  const h = new Harness();
  h.listen();
  const { fd, conn } = h.connect();
  h.k.recv(fd, bytes(3, 1));
  h.k.recv(fd, bytes(3, 2));
  // the CQ was full when these were posted: they wait in the kernel's backlog
  h.k.recv(fd, bytes(3, 3));
  h.k.overflow.push(h.k.cq.pop()!);
  h.k.overflow.push({ userData: h.k.last('recv', fd).userData, res: 0, flags: 0 });
  const ev = h.tick();
  assert.equal(ev.map((e) => [e.kind, e.conn]), [[EV.DATA, conn], [EV.DATA, conn], [EV.DATA, conn], [EV.EOF, conn]]);
  assert.is(h.k.overflow.length + h.k.cq.length, 0);
});

test('a tick that uses its whole batch leaves an overflow backlog visible in the CQ', () => {
  const h = new Harness({ cqeBatch: 2 });
  h.listen();
  const { fd } = h.connect();
  h.k.recv(fd, bytes(3, 1));
  h.k.recv(fd, bytes(3, 2));
  h.k.recv(fd, bytes(3, 3));
  h.k.overflow.push(h.k.cq.pop()!);
  assert.is(h.tick().length, 2, 'a batch of 2');
  assert.is(h.k.host.cqReady(h.k.ring), 1, 'the backlog was flushed into the CQ, not consumed: the driver sees it');
  assert.is(h.tick().length, 1);
});


/** One engine turn: CQEs in, then the flush (buffers published, SQEs submitted). */
function turn(h: Harness): void { h.tick(); h.r.submit(); }

/** Closes the connection and the listener, then checks every buffer, slot and fd is back. */
function closeAll(h: Harness, fd: number, conn: number): void {
  h.r.close(conn, false);
  h.r.submit();
  h.k.recvEnd(fd, -E.ECANCELED);
  h.tick();
  h.r.stopAccepting(); h.r.submit(); h.k.push(h.k.last('accept').userData, -E.ECANCELED, 0); h.tick();
  h.checkClean();
}

test('warm set: of 512 buffers the kernel gets 64; light traffic reuses a few and never touches the rest', () => {
  const h = new Harness({ bufferRingEntries: 512, recvBufferSize: 64 });
  h.listen();
  const { fd, conn } = h.connect();
  const s0 = h.stats();
  assert.equal([s0.buffersKernel, s0.buffersReturning, s0.buffersWarm], [64, 448, 64]);
  assert.is(h.k.available().length, 64);
  const used = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const a = h.k.recv(fd, bytes(16, i)), b = h.k.recv(fd, bytes(16, i + 1));
    used.add(a); used.add(b);
    turn(h);
    h.r.release(a);
    h.r.release(b);
    turn(h);
  }
  const s = h.stats();
  assert.is(s.buffersWarm, 64, 'two at a time never drains the warm set');
  // the kernel's ring turns FIFO through the warm set; the two the app holds
  // while it is topped up are the only others ever touched
  assert.ok(used.size <= 64 + 2, `${used.size} distinct buffers used`);
  for (const bid of used) assert.ok(bid < 64 + 2, `buffer ${bid} is one of the first 66`);
  assert.equal([s.buffersKernel, s.buffersApp, s.buffersReturning], [64, 0, 448]);
  closeAll(h, fd, conn);
});

test('warm set: a burst that drains three quarters of it doubles it at the next flush, up to the ring', () => {
  const h = new Harness({ bufferRingEntries: 256, recvBufferSize: 64, cqeBatch: 256 }); // one tick sees the whole burst
  h.listen();
  const { fd, conn } = h.connect();
  const held: number[] = [];
  for (let i = 0; i < 48; i++) held.push(h.k.recv(fd, bytes(8, i)));
  turn(h);
  assert.is(h.stats().buffersWarm, 64, '16 of 64 left: not below a quarter');
  assert.is(h.stats().buffersKernel, 64, 'topped up from the cold buffers');
  for (let i = 0; i < 49; i++) held.push(h.k.recv(fd, bytes(8, i)));
  turn(h);
  const s = h.stats();
  assert.is(s.buffersWarm, 128, 'kernel share fell below 64 / 4');
  assert.is(s.buffersKernel, 128, 'the flush topped the kernel up to the new warm set');
  assert.is(h.k.available().length, 128);
  for (const b of held) h.r.release(b);
  turn(h);
  // drain twice more: 128 -> 256, and no further (the ring's size)
  for (let round = 0; round < 2; round++) {
    const more: number[] = [];
    const st = h.stats();
    const n = st.buffersKernel - Math.floor(st.buffersWarm / 4) + 1;
    for (let i = 0; i < n; i++) more.push(h.k.recv(fd, bytes(8, i)));
    turn(h);
    for (const b of more) h.r.release(b);
    turn(h);
  }
  assert.is(h.stats().buffersWarm, 256);
  assert.is(h.stats().buffersKernel, 256);
  closeAll(h, fd, conn);
});

test('warm set: a recv that finds the ring empty (ENOBUFS) doubles it', () => {
  const h = new Harness({ bufferRingEntries: 512, recvBufferSize: 64 });
  h.listen();
  const { fd, conn } = h.connect();
  h.k.recvEnd(fd, -E.ENOBUFS);
  turn(h);
  const s = h.stats();
  assert.is(s.enobufs, 1n);
  assert.is(s.buffersWarm, 128);
  assert.is(s.buffersKernel, 128);
  closeAll(h, fd, conn);
});

test.run();
