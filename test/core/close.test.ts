// Close: cancel the recv (and the send when aborting), wait for their last CQEs,
// close the fd, give back every buffer, report `closed` exactly once, reuse the
// slot only after the app saw `closed`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { E, EV, F_MORE, Harness, bytes } from './scripted-host.ts';

function closedEvents(h: Harness, conn: number) {
  return h.events.filter((e) => e.kind === EV.CLOSED && e.conn === conn);
}

test('abortive close racing a recv and a send: fd closed at once, the old requests end on the old conn', () => {
  const h = new Harness();
  h.listen();
  const { fd, conn } = h.connect();
  const bid = h.k.recv(fd, bytes(30));
  const d = h.tick()[0]!;
  h.r.write(conn, h.r.recvSlab(), d.w2, d.w3);
  h.r.submit();
  const send = h.k.lastSend(fd);
  const recv = h.k.last('recv', fd);
  h.r.close(conn, true);
  assert.not.ok(h.k.fds.has(fd), 'closed at once: every SQE naming it was submitted');
  h.r.submit();
  const cancels = h.k.submitted('cancel');
  assert.equal(cancels.map((c) => c.target).sort(), [recv.userData, send.userData].sort());
  // the kernel hands the same fd number to a new connection right away
  const b = h.connect(fd);
  assert.is.not(b.conn, conn);
  // the old requests raced their cancels: more data arrived, the send sent half
  const raced = h.k.recv(fd, bytes(10, 2), { userData: recv.userData });
  h.k.push(send.userData, 15, 0);
  let ev = h.tick();
  assert.equal(ev.map((e) => [e.kind, e.conn, e.w1, e.w2]), [[EV.SENT, conn, 0, 15]],
    'the partial send is reported on the old conn; the raced data reaches nobody');
  h.r.release(bid);
  h.r.submit();
  assert.is(h.k.submitted('send', fd).length + h.k.submitted('sendmsg', fd).length, 1, 'no resubmit when aborting');
  // the old recv ends: the old conn is done
  h.k.push(recv.userData, -E.ECANCELED, 0);
  ev = h.tick();
  assert.equal(ev.map((e) => [e.kind, e.conn, e.w1]), [[EV.CLOSED, conn, 0]]);
  for (const c of cancels) h.k.push(c.userData, c.target === send.userData ? -E.ENOENT : 0, 0);
  assert.equal(h.tick(), []);
  h.r.submit();
  assert.ok(h.k.available().includes(raced), 'the raced buffer went back');
  assert.ok(h.k.available().includes(bid), 'the written buffer went back');
  assert.is(closedEvents(h, conn).length, 1);
  const s = h.stats();
  assert.is(s.staleCqes, 0n, 'none of these was stale: each had its conn');
  assert.is(s.connectionsOpen, 1);
  // the new connection on the same fd number was never touched
  assert.ok(h.k.fds.has(fd));
  assert.equal(h.events.filter((e) => e.conn === b.conn).map((e) => e.kind), [EV.OPEN]);
  const bid2 = h.k.recv(fd, bytes(4, 9));
  assert.equal(h.tick().map((e) => [e.kind, e.conn, e.w1]), [[EV.DATA, b.conn, bid2]]);
});

test('abortive close: recv and send end in the other order, and with ECANCELED', () => {
  const h = new Harness();
  h.listen();
  const { fd, conn } = h.connect();
  const slab = h.k.addSlab(bytes(100));
  h.r.write(conn, slab, 0, 100);
  h.r.write(conn, slab, 0, 50); // queued behind the in-flight one
  h.r.submit();
  h.r.close(conn, true);
  h.r.submit();
  h.k.recvEnd(fd, -E.ECANCELED);
  assert.equal(h.tick(), [], 'the send is still in the kernel: no closed yet');
  h.k.sendDone(fd, -E.ECANCELED);
  assert.equal(h.tick().map((e) => [e.kind, e.w1]), [[EV.CLOSED, 0]]);
  assert.not.ok(h.k.fds.has(fd));
});

test('graceful close with a send in flight: the queue drains, then closed', () => {
  const h = new Harness();
  h.listen();
  const { fd, conn } = h.connect();
  const slab = h.k.addSlab(bytes(100));
  h.r.write(conn, slab, 0, 60);
  h.r.submit();
  h.r.write(conn, slab, 60, 40);
  h.r.close(conn, false);
  assert.is(h.r.write(conn, slab, 0, 1), -E.EPIPE, 'no writes after close');
  h.r.submit();
  assert.is(h.k.submitted('cancel').length, 1, 'only the recv is cancelled');
  h.k.recvEnd(fd, -E.ECANCELED);
  h.k.sendDone(fd, 60);
  assert.equal(h.tick().map((e) => [e.kind, e.w1]), [[EV.SENT, 1]]);
  h.r.submit();
  assert.equal(h.k.lastSend(fd).ranges.map((r) => [r.offset, r.len]), [[60, 40]]);
  h.k.sendDone(fd, 40);
  assert.equal(h.tick().map((e) => [e.kind, e.w1]), [[EV.SENT, 1], [EV.CLOSED, 0]]);
  // abort while graceful is pending upgrades it; closing twice is harmless
  assert.is(h.r.close(conn, true), -E.EBADF);
});

test('graceful close upgraded to abort cancels the send', () => {
  const h = new Harness();
  h.listen();
  const { fd, conn } = h.connect();
  h.r.write(conn, h.k.addSlab(bytes(10)), 0, 10);
  h.r.submit();
  h.r.close(conn, false);
  h.r.submit();
  assert.is(h.k.submitted('cancel').length, 1);
  assert.is(h.r.close(conn, true), 0);
  h.r.submit();
  assert.is(h.k.last('cancel').target, h.k.lastSend(fd).userData);
});

test('close of a starved connection (no recv armed) finishes at once', () => {
  const h = new Harness({ bufferRingEntries: 2 });
  h.listen();
  const { fd, conn } = h.connect();
  h.k.recv(fd, bytes(5));
  h.k.recv(fd, bytes(5));
  h.k.recv(fd, bytes(5)); // -ENOBUFS
  const ev = h.tick();
  assert.is(ev.filter((e) => e.kind === EV.DATA).length, 2);
  h.r.close(conn, false);
  h.r.submit();
  assert.is(h.k.submitted('cancel').length, 0);
  assert.equal(h.tick().map((e) => e.kind), [EV.CLOSED]);
  for (const e of ev) if (e.kind === EV.DATA) h.r.release(e.w1);
  h.r.submit();
  assert.is(h.k.submitted('recv', fd).length, 1, 'a closed connection is never re-armed');
});

test('an app close and a recv error together give one closed; the late cancel is harmless', () => {
  const h = new Harness();
  h.listen();
  const { fd, conn } = h.connect();
  h.r.close(conn, false);
  h.k.recvEnd(fd, -E.ECONNRESET); // the recv failed before the cancel reached the kernel
  const ev = h.tick(); // submits the cancel, then reaps the error
  assert.equal(ev.map((e) => [e.kind, e.w1]), [[EV.CLOSED, 0]], 'the close came first: clean');
  const cancel = h.k.last('cancel');
  h.k.push(cancel.userData, -E.ENOENT, 0);
  assert.equal(h.tick(), []);
  assert.is(closedEvents(h, conn).length, 1);
  // and the other order: the error first, then the app's close finds nothing
  const b = h.connect(); // reuses the slot
  const mark = h.events.length;
  h.k.recvEnd(b.fd, -E.ECONNRESET);
  assert.equal(h.tick().map((e) => [e.kind, e.w1]), [[EV.CLOSED, E.ECONNRESET]]);
  assert.is(h.r.close(b.conn, false), -E.EBADF);
  h.tick();
  assert.is(h.events.slice(mark).filter((e) => e.kind === EV.CLOSED).length, 1);
});

test('a slot is reused only after the tick that reported it closed', () => {
  const h = new Harness();
  h.listen();
  const a = h.connect();
  h.k.recvEnd(a.fd, -E.ECONNRESET);
  h.k.accept(true); // accepted in the same batch as the close
  const ev = h.tick();
  const open = ev.find((e) => e.kind === EV.OPEN)!;
  assert.ok(ev.some((e) => e.kind === EV.CLOSED && e.conn === a.conn));
  assert.is.not(open.conn, a.conn, 'not the slot whose closed is in this very batch');
  h.r.submit();
  const c = h.connect();
  assert.is(c.conn, a.conn, 'free again after that tick');
});

test('max-connections: excess connections are closed and counted; the others are undisturbed', () => {
  const h = new Harness({ maxConnections: 2 });
  h.listen();
  const a = h.connect();
  const b = h.connect();
  const extra = h.k.accept(true);
  const ev = h.tick();
  assert.equal(ev, [], 'no open event for the excess');
  assert.not.ok(h.k.fds.has(extra), 'closed');
  const s = h.stats();
  assert.is(s.rejected, 1n);
  assert.is(s.connectionsOpen, 2);
  h.k.recv(a.fd, bytes(3));
  h.k.recv(b.fd, bytes(3));
  assert.equal(h.tick().map((e) => [e.kind, e.conn]), [[EV.DATA, a.conn], [EV.DATA, b.conn]]);
  // one closes: room for one more
  h.k.recvEnd(a.fd, 0);
  h.tick();
  h.r.close(a.conn, false);
  h.tick();
  const c = h.connect();
  assert.ok(c.fd > 0);
  assert.is(h.stats().connectionsOpen, 2);
  assert.is(h.k.last('accept').submitNo, h.k.submitted('accept')[0]!.submitNo, 'the accept was never re-armed: F_MORE');
  void F_MORE;
});

test('max-connections 1: a close and an accept in one batch (the dead slot is not reusable yet)', () => {
  const h = new Harness({ maxConnections: 1 });
  h.listen();
  const a = h.connect();
  h.k.recvEnd(a.fd, -E.ECONNRESET);
  const fd = h.k.accept(true);
  const ev = h.tick();
  assert.equal(ev.map((e) => e.kind), [EV.CLOSED, EV.OPEN]);
  assert.is.not(ev[1]!.conn, a.conn);
  assert.ok(h.k.fds.has(fd));
  assert.is(h.stats().rejected, 0n);
});

test('destroy closes every fd, the listener, the ring and the slab', () => {
  const h = new Harness();
  h.listen();
  h.connect();
  h.connect();
  const base = h.k.fds.size;
  assert.is(base, 3);
  assert.is(h.r.destroy(), 0);
  assert.is(h.k.fds.size, 0);
  assert.is(h.k.slabs.size, 0);
  assert.is(h.k.ring, 0);
  assert.is(h.r.destroy(), -E.EBADF);
  // and a new reactor can be created on the same instance
  assert.is(h.r.create({ ...{ ringEntries: 8, ringFlags: 0, sqThreadCpu: -1, sqThreadIdleMs: 0, recvBufferSize: 16, bufferRingEntries: 2, cqeBatch: 4, maxConnections: 0, incremental: false, bufGroup: 3 , recvBudget: 0, recvReserve: 0, idleTimeoutMs: 0, endTimeoutMs: 0, maxFd: 65536, sendRanges: 65536 } }), 0);
  assert.is(h.r.destroy(), 0);
});

test.run();
