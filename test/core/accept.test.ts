// Create, listen, multishot accept, adopt, stop-accepting.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadReactor } from '../../bridge/index.ts';
import { E, ENTER_GETEVENTS, EV, F_MORE, Harness, ScriptedKernel, SETUP, baseConfig, bytes } from './scripted-host.ts';

test('create falls back: without SQPOLL, then without DEFER_TASKRUN|SINGLE_ISSUER', () => {
  const want = SETUP.SQPOLL | SETUP.SINGLE_ISSUER | SETUP.DEFER_TASKRUN | SETUP.COOP_TASKRUN;
  const h = new Harness({ ringFlags: want }, { refuseFlags: SETUP.SQPOLL | SETUP.DEFER_TASKRUN });
  const tried = h.k.calls.filter((c) => c.name === 'createRingEx').map((c) => c.args[1]);
  assert.equal(tried, [want, want & ~SETUP.SQPOLL, SETUP.COOP_TASKRUN]);
  assert.is(h.stats().ringFlags, SETUP.COOP_TASKRUN);
});

test('create returns the kernel refusal as is: ENOSYS at once, EPERM after the fallbacks', () => {
  for (const [err, calls] of [[-E.ENOSYS, 1], [-E.EPERM, 3]] as const) {
    const k = new ScriptedKernel({ ringError: err });
    const r = loadReactor(k.backend);
    assert.is(r.create({ ...baseConfig, ringFlags: SETUP.SQPOLL | SETUP.SINGLE_ISSUER | SETUP.DEFER_TASKRUN }), err);
    assert.is(k.count('createRingEx'), calls);
    assert.is(r.ring(), -E.EBADF);
  }
});

test('create undoes everything when the buffer ring is refused; bad configs are -EINVAL', () => {
  const k = new ScriptedKernel({ bufRingError: -E.ENOMEM });
  const r = loadReactor(k.backend);
  assert.is(r.create(baseConfig), -E.ENOMEM);
  assert.is(k.ring, 0, 'ring destroyed');
  assert.is(k.slabs.size, 0, 'slab destroyed');
  assert.is(r.create({ ...baseConfig, bufferRingEntries: 6 }), -E.EINVAL);
  assert.is(r.create({ ...baseConfig, cqeBatch: 0 }), -E.EINVAL);
  const k2 = new ScriptedKernel();
  const r2 = loadReactor(k2.backend);
  assert.is(r2.create(baseConfig), 0);
  assert.is(r2.create(baseConfig), -E.EALREADY);
  assert.is(k2.count('bufRingAdd'), 8);
  assert.is(k2.count('bufRingAdvance'), 1);
  assert.equal(k2.available(), [0, 1, 2, 3, 4, 5, 6, 7]);
});

test('with DEFER_TASKRUN every tick enters with GETEVENTS before peeking', () => {
  const h = new Harness({ ringFlags: SETUP.SINGLE_ISSUER | SETUP.DEFER_TASKRUN });
  const from = h.k.calls.length;
  h.tick();
  const names = h.k.calls.slice(from).map((c) => c.name);
  const enter = names.indexOf('enter');
  assert.ok(enter >= 0 && enter < names.indexOf('peekBatchCqe'));
  assert.is((h.k.calls[from + enter]!.args[3] as number) & ENTER_GETEVENTS, ENTER_GETEVENTS);
  const plain = new Harness();
  const f2 = plain.k.calls.length;
  plain.tick();
  assert.is(plain.k.count('enter', f2), 0, 'no extra enter without DEFER_TASKRUN');
});

test('listen: v4, v6-only, dual-stack; SO_REUSEADDR; bound port; errors close the socket', () => {
  const v4 = new Harness();
  assert.is(v4.r.listen('127.0.0.1', 0, 4, 64), 40000);
  assert.equal(v4.k.calls.find((c) => c.name === 'socket')!.args.slice(0, 1), [2]);
  assert.equal(v4.k.calls.find((c) => c.name === 'bind')!.args[1], { port: 0, addr: 0x7f000001 });
  assert.ok(v4.k.sockopts.some((o) => o.level === 1 && o.name === 2 && o.value === 1), 'SO_REUSEADDR');
  assert.equal(v4.k.calls.find((c) => c.name === 'listen')!.args[1], 64);
  assert.is(v4.r.listen('127.0.0.1', 0, 4, 64), -E.EALREADY);

  for (const [fam, v6only] of [[6, 1], [0, 0]] as const) {
    const h = new Harness();
    assert.is(h.r.listen('::1', 8123, fam, 16), 8123);
    assert.equal(h.k.calls.find((c) => c.name === 'socket')!.args[0], 10);
    assert.ok(h.k.sockopts.some((o) => o.level === 41 && o.name === 26 && o.value === v6only), `IPV6_V6ONLY=${v6only}`);
    const b6 = h.k.calls.find((c) => c.name === 'bind6')!.args[1] as { port: number; lo: bigint };
    assert.equal([b6.port, b6.lo], [8123, 1n]);
  }
  const bad = new Harness();
  assert.is(bad.r.listen('not-an-ip', 0, 4, 16), -E.EINVAL);
  assert.is(bad.k.fds.size, 0);
  assert.is(bad.r.listen('127.0.0.1', 0, 5, 16), -E.EAFNOSUPPORT);
  const any = new Harness();
  assert.is(any.r.listen('', 0, 0, 16), 40000, 'empty host = wildcard');
});

test('every accepted fd gets TCP_NODELAY and a multishot recv with buffer select', () => {
  const h = new Harness();
  h.listen();
  for (let i = 0; i < 3; i++) {
    const { fd } = h.connect();
    assert.ok(h.k.sockopts.some((o) => o.fd === fd && o.level === 6 && o.name === 1 && o.value === 1));
    assert.is(h.k.last('recv', fd).bufGroup, 1);
  }
  assert.is(h.k.submitted('accept').length, 1, 'one multishot accept serves them all');
  assert.is(h.stats().accepted, 3n);
});

test('a multishot accept that ends without F_MORE is re-armed; its connection is kept', () => {
  const h = new Harness();
  h.listen();
  const fd = h.k.accept(false);
  const ev = h.tick();
  assert.equal(ev.map((e) => [e.kind, e.w1]), [[EV.OPEN, fd]]);
  h.r.submit();
  const acc = h.k.submitted('accept');
  assert.is(acc.length, 2);
  assert.is(acc[1]!.userData, acc[0]!.userData);
});

test('EMFILE, ENFILE, ECONNABORTED do not stop the server; out of fds parks the accept (no busy loop)', () => {
  const h = new Harness();
  h.listen();
  const { fd, conn } = h.connect();
  const ud = h.k.last('accept').userData;
  h.k.push(ud, -E.ECONNABORTED, F_MORE);
  h.k.push(ud, -E.EMFILE, 0);
  let ev = h.tick();
  assert.equal(ev.map((e) => [e.kind, e.w1, e.w2]), [[EV.ERROR, E.EMFILE, 1]], 'reported, will re-arm (w2 = 1)');
  h.r.submit();
  h.k.recv(fd, new Uint8Array(8)); // a busy reactor: the next tick reaps something
  h.tick();
  h.r.submit();
  assert.is(h.k.submitted('accept').length, 1, 'not re-armed while the process is out of fds');
  // One of our connections closes: an fd is free again.
  const recv = h.k.last('recv', fd);
  h.r.close(conn, true);
  h.r.submit();
  h.k.push(recv.userData, -E.ECANCELED, 0);
  ev = h.tick();
  assert.ok(ev.some((e) => e.kind === EV.CLOSED && e.conn === conn), 'the connection closed');
  h.tick();
  h.r.submit();
  assert.is(h.k.submitted('accept').length, 2, 're-armed once a connection closed');
  // ENFILE with nothing closing: re-armed after 64 ticks at the latest.
  const b = h.connect();
  h.k.push(h.k.last('accept').userData, -E.ENFILE, 0);
  ev = h.tick();
  assert.equal(ev.map((e) => [e.kind, e.w1, e.w2]), [[EV.ERROR, E.ENFILE, 1]]);
  h.r.submit();
  // A busy reactor: every tick reaps a recv (its buffer goes back each time).
  const busyTick = (): void => {
    const bid = h.k.recv(b.fd, new Uint8Array(8));
    h.tick();
    h.r.release(bid);
    h.r.submit();
  };
  for (let i = 0; i < 62; i++) busyTick();
  h.r.submit();
  assert.is(h.k.submitted('accept').length, 2, 'still parked while busy');
  for (let i = 0; i < 2; i++) busyTick();
  assert.is(h.k.submitted('accept').length, 3, 're-armed after 64 ticks');
  // Parked again, on an idle reactor: the host's retry tick (nothing to reap) re-arms.
  h.k.push(h.k.last('accept').userData, -E.EMFILE, 0);
  h.tick();
  h.r.submit();
  assert.is(h.k.submitted('accept').length, 3, 'parked');
  h.tick();
  h.r.submit();
  assert.is(h.k.submitted('accept').length, 4, 'an idle tick re-arms');
  const again = h.connect();
  assert.ok(again.conn >= 0, 'still accepting');
});

test('an accept error that cannot pass (EINVAL) is reported and the accept is given up', () => {
  const h = new Harness();
  h.listen();
  h.k.push(h.k.last('accept').userData, -E.EINVAL, 0);
  assert.equal(h.tick().map((e) => [e.kind, e.w1, e.w2]), [[EV.ERROR, E.EINVAL, 0]]);
  h.r.submit();
  assert.is(h.k.submitted('accept').length, 1);
  assert.is(h.r.stopAccepting(), 0);
  assert.not.ok(h.k.fds.has(h.lfd), 'nothing armed: the listener closes at once');
});

test('stop-accepting cancels the accept; connections racing it are closed; listener closed after', () => {
  const h = new Harness();
  h.listen();
  const open = h.connect();
  const acc = h.k.last('accept');
  assert.is(h.r.stopAccepting(), 0);
  h.r.submit();
  assert.is(h.k.last('cancel').target, acc.userData);
  const late = h.k.accept(true);
  h.k.push(acc.userData, -E.ECANCELED, 0);
  assert.equal(h.tick(), []);
  assert.not.ok(h.k.fds.has(late));
  assert.not.ok(h.k.fds.has(h.lfd));
  assert.ok(h.k.fds.has(open.fd), 'open connections stay');
  assert.is(h.stats().rejected, 1n);
  assert.is(h.r.stopAccepting(), -E.EBADF);
});

test('adopt: an fd accepted elsewhere becomes a connection; bad or owned fds are refused', () => {
  const h = new Harness();
  const fd = h.k.allocFd();
  const conn = h.r.adopt(fd);
  assert.ok(conn >= 0);
  assert.equal(h.tick().map((e) => [e.kind, e.conn, e.w1]), [[EV.OPEN, conn, fd]]);
  h.r.submit();
  assert.is(h.k.last('recv', fd).fd, fd);
  assert.is(h.r.adopt(fd), -E.EEXIST);
  assert.is(h.r.adopt(999), -E.EBADF);
  h.k.recv(fd, bytes(3));
  assert.is(h.tick()[0]!.kind, EV.DATA);
});

test.run();
