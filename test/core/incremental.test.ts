// IOU_PBUF_RING_INC: the kernel fills one buffer across several CQEs at
// increasing offsets (IORING_CQE_F_BUF_MORE while it keeps the buffer). The
// core gives a buffer back only after the final CQE *and* the last release.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EV, Harness, bytes, type Ev } from './scripted-host.ts';

const cfg = { incremental: true, recvBufferSize: 64, bufferRingEntries: 4 };

function data(ev: Ev[]): Ev[] {
  return ev.filter((e) => e.kind === EV.DATA);
}

test('the buffer ring is registered with IOU_PBUF_RING_INC', () => {
  const h = new Harness(cfg);
  const setup = h.k.calls.find((c) => c.name === 'setupBufRing')!;
  assert.equal(setup.args.slice(1), [4, 1, 2]);
});

test('several CQEs into one buffer: offsets advance, returned after the final CQE and the last release', () => {
  const h = new Harness(cfg);
  h.listen();
  const { fd, conn } = h.connect();
  const parts = [bytes(10, 1), bytes(20, 2), bytes(30, 3)];
  const evs: Ev[] = [];
  for (const p of parts) assert.is(h.k.recv(fd, p), 0, 'all in buffer 0');
  evs.push(...data(h.tick()));
  assert.equal(evs.map((e) => [e.conn, e.w1, e.w2, e.w3]), [[conn, 0, 0, 10], [conn, 0, 10, 20], [conn, 0, 30, 30]]);
  evs.forEach((e, i) => assert.equal(new Uint8Array(h.k.slabOf(), e.w2, e.w3), parts[i]));
  // every reference released, but the kernel still fills buffer 0: it stays
  for (const e of evs) assert.is(h.r.release(e.w1), 0);
  h.tick();
  assert.equal(h.k.available(), [0, 1, 2, 3], 'still the head of the kernel ring, never re-added');
  assert.is(h.stats().buffersKernel, 4);
  // the final 4 bytes fill it: no BUF_MORE; the app holds that last chunk
  const last = bytes(4, 4);
  assert.is(h.k.recv(fd, last), 0);
  const fin = data(h.tick());
  assert.equal(fin.map((e) => [e.w1, e.w2, e.w3]), [[0, 60, 4]]);
  h.r.submit();
  assert.equal(h.k.available(), [1, 2, 3], 'not returned while the app holds the last chunk');
  assert.is(h.stats().buffersApp, 1);
  const from = h.k.calls.length;
  h.r.release(0);
  h.r.submit();
  assert.is(h.k.count('bufRingAdd', from), 1);
  assert.equal(h.k.available(), [1, 2, 3, 0], 'home after the final CQE and the last release');
  const st = h.stats();
  assert.equal([st.buffersKernel, st.buffersApp, st.buffersReturning], [4, 0, 0]);
});

test('references outliving the final CQE: returned only at the last release', () => {
  const h = new Harness(cfg);
  h.listen();
  const { fd } = h.connect();
  h.k.recv(fd, bytes(32, 1));
  h.k.recv(fd, bytes(32, 2)); // fills it: final
  const ev = data(h.tick());
  assert.is(ev.length, 2);
  h.r.release(0);
  h.r.submit();
  assert.not.ok(h.k.available().includes(0));
  h.r.release(0);
  h.r.submit();
  assert.ok(h.k.available().includes(0));
  assert.is(h.r.release(0), -22, 'no third reference');
});

test('one buffer shared by two connections; a closing connection drops its chunk without a reference', () => {
  const h = new Harness(cfg);
  h.listen();
  const a = h.connect();
  const b = h.connect();
  h.k.recv(a.fd, bytes(16, 1));
  h.k.recv(b.fd, bytes(16, 2));
  const ev = data(h.tick());
  assert.equal(ev.map((e) => [e.conn, e.w1, e.w2, e.w3]), [[a.conn, 0, 0, 16], [b.conn, 0, 16, 16]]);
  h.r.close(a.conn, true);
  h.r.submit();
  h.k.recv(a.fd, bytes(16, 3)); // raced the cancel: not delivered
  h.k.recvEnd(a.fd, -125);
  const ev2 = h.tick();
  assert.equal(ev2.map((e) => [e.kind, e.conn]), [[EV.CLOSED, a.conn]]);
  h.k.recv(b.fd, bytes(16, 4)); // final, offset 48
  const ev3 = data(h.tick());
  assert.equal(ev3.map((e) => [e.conn, e.w2, e.w3]), [[b.conn, 48, 16]]);
  for (const e of [...ev, ...ev3]) h.r.release(e.w1);
  h.r.submit();
  assert.equal(h.k.available(), [1, 2, 3, 0]);
});

test('a write of a chunk holds the buffer past the final CQE until sent', () => {
  const h = new Harness(cfg);
  h.listen();
  const { fd, conn } = h.connect();
  h.k.recv(fd, bytes(40, 1));
  const [d] = data(h.tick());
  h.r.write(conn, h.r.recvSlab(), d!.w2, d!.w3);
  h.r.release(0);
  h.r.submit();
  h.k.recv(fd, bytes(24, 2)); // final CQE for buffer 0
  const [d2] = data(h.tick());
  h.r.release(d2!.w1);
  h.r.submit();
  assert.not.ok(h.k.available().includes(0), 'the queued write holds it');
  h.k.sendDone(fd, 40);
  h.tick();
  h.r.submit();
  assert.ok(h.k.available().includes(0));
});

test.run();
