// Send: per-connection FIFO of ranges, one send in flight, short sends resubmit
// the rest, queued ranges gathered into one sendmsg of up to 64 iovecs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { E, EV, Harness, bytes, type Sqe } from './scripted-host.ts';

function inflight(h: Harness, fd: number): Sqe[] {
  return h.k.sqes.filter((s) => s.submitNo > 0 && (s.op === 'send' || s.op === 'sendmsg') && s.fd === fd);
}

test('a 1 MiB write completed by short sends goes out exactly once, in order', () => {
  const h = new Harness();
  h.listen();
  const { fd, conn } = h.connect();
  const payload = bytes(1 << 20, 11);
  const slab = h.k.addSlab(payload);
  assert.is(h.r.write(conn, slab, 0, payload.length), 0);
  h.r.submit();
  const wire: Uint8Array[] = [];
  let sentEvents = 0, rangesDone = 0, rounds = 0;
  const chunks = [1, 4095, 65536, 100000, 7, 300000]; // arbitrary short sends
  while (true) {
    const live = inflight(h, fd);
    const s = live[live.length - 1]!;
    const want = h.k.bytesOf(s);
    const n = Math.min(want.length, chunks[rounds % chunks.length]!);
    wire.push(want.slice(0, n)); // the kernel took the first n bytes it was given
    h.k.sendDone(fd, n);
    rounds++;
    for (const e of h.tick()) {
      if (e.kind === EV.SENT) { sentEvents++; rangesDone += e.w1; assert.is(e.w2, n); }
    }
    h.r.submit();
    assert.is(inflight(h, fd).length, live.length + (rangesDone ? 0 : 1), 'one send in flight at a time');
    if (rangesDone) break;
  }
  const total = wire.reduce((a, w) => a + w.length, 0);
  assert.is(total, payload.length);
  const out = new Uint8Array(total);
  let o = 0;
  for (const w of wire) { out.set(w, o); o += w.length; }
  assert.ok(Buffer.from(out).equals(Buffer.from(payload)), 'bytes on the wire = the write, in order');
  assert.is(rangesDone, 1, 'the write completes exactly once');
  assert.is(sentEvents, rounds);
  const st = h.stats();
  assert.is(st.shortSends, BigInt(rounds - 1));
  assert.is(st.bytesOut, BigInt(payload.length));
});

test('writes queued during a tick are gathered into one sendmsg, in write order', () => {
  const h = new Harness();
  h.listen();
  const { fd, conn } = h.connect();
  const parts = [bytes(10, 1), bytes(20, 2), bytes(30, 3)];
  const slabs = parts.map((p) => h.k.addSlab(p));
  for (let i = 0; i < 3; i++) assert.is(h.r.write(conn, slabs[i]!, 0, parts[i]!.length), 0);
  h.r.submit();
  const s = h.k.lastSend(fd);
  assert.is(s.op, 'sendmsg');
  assert.equal(s.ranges.map((r) => r.len), [10, 20, 30]);
  assert.is(s.msgFlags & 0x4000, 0x4000, 'MSG_NOSIGNAL');
  // a short send that ends inside the second range: the rest is resubmitted from there
  h.k.sendDone(fd, 15);
  const ev = h.tick();
  assert.equal(ev.map((e) => [e.kind, e.w1, e.w2]), [[EV.SENT, 1, 15]]);
  h.r.submit();
  const s2 = h.k.lastSend(fd);
  assert.equal(s2.ranges.map((r) => [r.slab, r.offset, r.len]), [[slabs[1], 5, 15], [slabs[2], 0, 30]]);
  h.k.sendDone(fd, 45);
  assert.equal(h.tick().map((e) => [e.kind, e.w1, e.w2]), [[EV.SENT, 2, 45]]);
});

test('at most 64 ranges per sendmsg; writes made while a send is in flight wait for it', () => {
  const h = new Harness();
  h.listen();
  const { fd, conn } = h.connect();
  const slab = h.k.addSlab(bytes(200, 5));
  for (let i = 0; i < 100; i++) assert.is(h.r.write(conn, slab, i, 1), 0);
  h.r.submit();
  assert.is(h.k.lastSend(fd).ranges.length, 64);
  assert.is(inflight(h, fd).length, 1);
  h.r.write(conn, slab, 150, 1);
  h.r.submit();
  assert.is(inflight(h, fd).length, 1, 'still one in flight');
  h.k.sendDone(fd, 64);
  assert.equal(h.tick().map((e) => [e.kind, e.w1]), [[EV.SENT, 64]]);
  h.r.submit();
  const s = h.k.lastSend(fd);
  assert.is(s.ranges.length, 37);
  assert.equal(s.ranges.map((r) => r.offset), [...Array.from({ length: 36 }, (_, i) => 64 + i), 150]);
});

test('writing recv-slab bytes holds the buffer until the send completes', () => {
  const h = new Harness();
  h.listen();
  const { fd, conn } = h.connect();
  const bid = h.k.recv(fd, bytes(12));
  const d = h.tick()[0]!;
  assert.is(h.r.write(conn, h.r.recvSlab(), d.w2, d.w3), 0);
  assert.is(h.r.release(bid), 0, 'the app lets go right after writing');
  h.tick();
  assert.not.ok(h.k.available().includes(bid), 'the queued write still holds it');
  assert.is(h.stats().buffersApp, 1);
  h.k.sendDone(fd, 12);
  h.tick();
  h.r.submit();
  assert.ok(h.k.available().includes(bid), 'home once sent');
  // ranges the app does not hold are refused
  assert.is(h.r.write(conn, h.r.recvSlab(), d.w2, d.w3), -E.EINVAL);
  assert.is(h.r.release(bid), -E.EINVAL, 'double release is refused');
  assert.is(h.r.write(conn, 99, 0, 0), -E.EINVAL, 'empty writes are refused');
});

test('shutdown: SHUT_WR once the queue is empty; later writes are refused', () => {
  const h = new Harness();
  h.listen();
  const { fd, conn } = h.connect();
  const slab = h.k.addSlab(bytes(8));
  h.r.write(conn, slab, 0, 8);
  h.r.submit();
  assert.is(h.r.shutdown(conn), 0);
  assert.equal(h.k.shutdowns, [], 'not while a send is pending');
  assert.is(h.r.write(conn, slab, 0, 8), -E.EPIPE);
  h.k.sendDone(fd, 8);
  h.tick();
  assert.equal(h.k.shutdowns, [{ fd, how: 1 }]);
});

test('a send error closes the connection with it; queued writes are dropped', () => {
  const h = new Harness();
  h.listen();
  const { fd, conn } = h.connect();
  const bid = h.k.recv(fd, bytes(12));
  const d = h.tick()[0]!;
  h.r.write(conn, h.r.recvSlab(), d.w2, 6);
  h.r.submit();
  h.r.write(conn, h.r.recvSlab(), d.w2 + 6, 6);
  h.r.release(bid);
  h.k.sendDone(fd, -E.EPIPE);
  const ev = h.tick();
  assert.equal(ev, [], 'the recv is still armed: closed waits for it');
  h.r.submit();
  assert.is(h.k.last('cancel').target, h.k.last('recv', fd).userData);
  h.k.recvEnd(fd, -E.ECANCELED);
  assert.equal(h.tick().map((e) => [e.kind, e.w1]), [[EV.CLOSED, E.EPIPE]]);
  h.r.submit();
  assert.ok(h.k.available().includes(bid), 'the dropped write gave its buffer back');
});

test('a host that refuses a send range (-EFAULT) closes that connection only', () => {
  const h = new Harness();
  h.listen();
  const a = h.connect();
  const b = h.connect();
  const small = h.k.addSlab(bytes(4));
  assert.is(h.r.write(a.conn, small, 0, 10), 0); // past the slab's end: the host says -EFAULT
  const bs = h.k.addSlab(bytes(5));
  h.r.write(b.conn, bs, 0, 5);
  h.r.submit();
  h.k.recvEnd(a.fd, -E.ECANCELED);
  const ev = h.tick();
  assert.equal(ev.map((e) => [e.kind, e.conn, e.w1]), [[EV.CLOSED, a.conn, E.EFAULT]]);
  assert.is(h.k.lastSend(b.fd).ranges[0]!.len, 5);
});

test.run();
