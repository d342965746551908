// Stale CQEs: after a connection closed and the kernel handed its fd number to
// a new connection, a late CQE of the old one must be dropped by generation,
// never delivered to the new one, and any buffer it carries must go home.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EV, Harness, KIND, bytes, pack, token } from './scripted-host.ts';

/** Opens A on fd 9, closes it, opens B on the same fd 9. */
function reuse(h: Harness) {
  const a = h.connect(9);
  const oldRecv = h.k.last('recv', 9).userData;
  h.r.close(a.conn, true);
  h.r.submit();
  h.k.recvEnd(9, -125);
  const ev = h.tick();
  assert.ok(ev.some((e) => e.kind === EV.CLOSED && e.conn === a.conn));
  h.tick();
  const b = h.connect(9);
  assert.is(b.fd, 9);
  assert.is(token(h.k.last('recv', 9).userData).gen, token(oldRecv).gen + 1);
  return { a, b, oldRecv };
}

test('a late recv CQE with data for the old generation is dropped and its buffer returned', () => {
  const h = new Harness();
  h.listen();
  const { b, oldRecv } = reuse(h);
  const bid = h.k.recv(9, bytes(20), { userData: oldRecv });
  assert.ok(bid >= 0);
  const ev = h.tick();
  assert.equal(ev, [], 'nothing reaches the new connection');
  const s = h.stats();
  assert.is(s.staleCqes, 1n);
  assert.is(s.buffersReturning, 1, 'the buffer is queued to go back');
  h.r.submit();
  assert.ok(h.k.available().includes(bid), 'and went back to the kernel');
  // the new connection is untouched: its own data still flows
  const bid2 = h.k.recv(9, bytes(3, 2));
  const d = h.tick();
  assert.equal(d.map((e) => [e.kind, e.conn, e.w1, e.w3]), [[EV.DATA, b.conn, bid2, 3]]);
  h.r.release(bid2);
  h.r.close(b.conn, true);
  h.r.submit();
  h.k.recvEnd(9, -125);
  h.tick();
  h.r.stopAccepting();
  h.r.submit();
  h.k.push(h.k.last('accept').userData, -125, 0);
  h.tick();
  h.checkClean();
});

test('late EOF, error and send CQEs of the old generation do not touch the new connection', () => {
  const h = new Harness();
  h.listen();
  const { b, oldRecv } = reuse(h);
  h.k.push(oldRecv, 0, 0); // EOF
  h.k.push(oldRecv, -104, 0); // ECONNRESET
  h.k.push(pack(KIND.SEND, token(oldRecv).gen, 9), 100, 0); // a send of A
  assert.equal(h.tick(), []);
  assert.is(h.stats().staleCqes, 3n);
  assert.is(h.stats().connectionsOpen, 1);
  // B still receives and can write
  const bid = h.k.recv(9, bytes(4));
  const d = h.tick().find((e) => e.kind === EV.DATA)!;
  assert.is(d.conn, b.conn);
  assert.is(h.r.write(b.conn, h.r.recvSlab(), d.w2, d.w3), 0);
  h.r.release(bid);
  h.r.submit();
  assert.equal(h.k.bytesOf(h.k.lastSend(9)), bytes(4));
});

test('a late accept CQE of a closed listener closes the fd it carries', () => {
  const h = new Harness();
  h.listen();
  const lfd = h.lfd;
  const oldAccept = h.k.last('accept').userData;
  h.r.stopAccepting();
  h.r.submit();
  assert.is(h.k.last('cancel').target, oldAccept);
  h.k.push(oldAccept, -125, 0);
  h.tick();
  assert.not.ok(h.k.fds.has(lfd), 'listener closed once its accept ended');
  // the same fd number becomes a new listener; an accept of the old one arrives late
  const port = h.r.listen('127.0.0.1', 0, 4, 16);
  assert.ok(port > 0);
  h.r.submit();
  assert.is(h.k.last('accept').fd, lfd);
  assert.is(token(h.k.last('accept').userData).gen, 2);
  const stray = h.k.allocFd();
  h.k.push(oldAccept, stray, 2);
  assert.equal(h.tick(), []);
  assert.not.ok(h.k.fds.has(stray), 'the stray connection is closed, not leaked');
  assert.is(h.stats().staleCqes, 1n);
  assert.is(h.stats().accepted, 0n);
});

test('the broken core (-DZL_FAULT_SKIP_STALE_CHECK) delivers the stale CQE to the new connection', async () => {
  const h = await Harness.broken();
  h.listen();
  const { b, oldRecv } = reuse(h);
  h.k.recv(9, bytes(20), { userData: oldRecv });
  const ev = h.tick();
  assert.equal(ev.map((e) => [e.kind, e.conn]), [[EV.DATA, b.conn]], 'the fault this variant exists to show');
  assert.is(h.stats().staleCqes, 0n);
});

/** Abortive close of A on fd 9, B accepted on fd 9, then A's recv ends late. */
function lateEnd(h: Harness) {
  h.listen();
  const a = h.connect(9);
  const oldRecv = h.k.last('recv', 9).userData;
  h.r.close(a.conn, true);
  h.r.submit();
  assert.not.ok(h.k.fds.has(9), 'fd closed before the recv ended');
  const b = h.connect(9);
  h.k.push(oldRecv, -125, 0);
  return { a, b, ev: h.tick() };
}

test('the late end of a closing connection reaches it, not the new owner of its fd number', () => {
  const h = new Harness();
  const { a, b, ev } = lateEnd(h);
  assert.equal(ev.map((e) => [e.kind, e.conn, e.w1]), [[EV.CLOSED, a.conn, 0]]);
  assert.is(h.stats().connectionsOpen, 1);
  assert.ok(h.k.fds.has(9));
  h.r.submit();
  assert.is(h.k.submitted('recv', 9).length, 2, 'B keeps its one recv');
  void b;
});

test('the broken core hands that late end to the new connection (the fault the simulator must catch)', async () => {
  const h = await Harness.broken();
  const { a, b, ev } = lateEnd(h);
  assert.equal(ev.map((e) => [e.kind, e.conn, e.w1]), [[EV.CLOSED, b.conn, 125]], 'B is killed by A\'s cancel');
  assert.not.ok(h.events.some((e) => e.kind === EV.CLOSED && e.conn === a.conn), 'and A never closes');
});

test.run();
