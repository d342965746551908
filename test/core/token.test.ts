// Tokens: the user_data the core puts on its SQEs is kind << 56 | gen << 32 | fd
// (wasm/src/zl_token.h). Observed on the SQEs the real core prepares, and
// checked by feeding CQEs with hand-packed tokens back in.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EV, Harness, KIND, bytes, pack, token } from './scripted-host.ts';

test('accept, recv, send and cancel SQEs carry kind, generation and fd', () => {
  const h = new Harness();
  h.listen();
  const acc = h.k.last('accept');
  assert.equal(token(acc.userData), { kind: KIND.ACCEPT, gen: 1, fd: h.lfd });
  assert.is(acc.userData, pack(KIND.ACCEPT, 1, h.lfd));

  const { fd, conn } = h.connect();
  const rv = h.k.last('recv', fd);
  assert.equal(token(rv.userData), { kind: KIND.RECV, gen: 1, fd });
  assert.is(rv.bufGroup, 1);

  h.k.recv(fd, bytes(5));
  const d = h.tick().find((e) => e.kind === EV.DATA)!;
  assert.is(h.r.write(conn, h.r.recvSlab(), d.w2, d.w3), 0);
  h.r.submit();
  assert.equal(token(h.k.lastSend(fd).userData), { kind: KIND.SEND, gen: 1, fd });

  h.r.close(conn, true);
  h.r.submit();
  const cancels = h.k.submitted('cancel');
  // abort with a send in flight: the recv and the send are both cancelled by token
  assert.equal(cancels.map((c) => c.target).sort(), [rv.userData, h.k.lastSend(fd).userData].sort());
  for (const c of cancels) assert.equal(token(c.userData), { kind: KIND.CANCEL, gen: 1, fd });
});

test('generation is per fd: it grows each time the fd number gets a new owner', () => {
  const h = new Harness();
  h.listen();
  const seen: number[] = [];
  for (let i = 0; i < 5; i++) {
    const { fd, conn } = h.connect(10); // the kernel hands out fd 10 every time
    seen.push(token(h.k.last('recv', fd).userData).gen);
    h.r.close(conn, false);
    h.r.submit();
    h.k.recvEnd(fd, -125);
    const ev = h.tick();
    assert.ok(ev.some((e) => e.kind === EV.CLOSED && e.conn === conn));
    assert.not.ok(h.k.fds.has(10));
    h.tick(); // the slot is reusable after the tick that reported it closed
  }
  assert.equal(seen, [1, 2, 3, 4, 5]);
  // another fd number starts its own count
  const other = h.connect(11);
  assert.is(token(h.k.last('recv', other.fd).userData).gen, 1);
});

test('large fd numbers survive the round trip (the fd is 32 bits of the token)', () => {
  const h = new Harness();
  h.listen();
  for (const fdn of [0x7fff, 0x10000, 0x3fffff]) {
    const { fd, conn } = h.connect(fdn);
    const ud = h.k.last('recv', fd).userData;
    assert.equal(token(ud), { kind: KIND.RECV, gen: 1, fd: fdn });
    const payload = bytes(7, fdn);
    const bid = h.k.recv(fd, payload);
    const d = h.tick().filter((e) => e.kind === EV.DATA);
    assert.equal(d.map((e) => [e.conn, e.w1, e.w3]), [[conn, bid, 7]]);
    assert.equal(new Uint8Array(h.k.slabOf(), d[0]!.w2, d[0]!.w3), payload);
    assert.is(h.r.release(bid), 0);
  }
});

test('a CQE with a hand-packed token reaches the handler its kind names', () => {
  const h = new Harness();
  h.listen();
  const { fd, conn } = h.connect();
  // EOF through a recv token built by the test, not copied from the SQE
  h.k.push(pack(KIND.RECV, 1, fd), 0, 0);
  const ev = h.tick();
  assert.equal(ev.map((e) => [e.kind, e.conn]), [[EV.EOF, conn]]);
  // a user_data of 0 (a NOP) and an unknown kind are ignored, not traps
  h.k.push(0n, 0, 0);
  h.k.push(pack(9, 1, fd), 0, 0);
  assert.equal(h.tick(), []);
  assert.is(h.stats().cqes, 4n); // the accept, the EOF, the NOP, the unknown
});

test.run();
