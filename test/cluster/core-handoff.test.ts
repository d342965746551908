// The core's `listen-ex` (wasm/wit/reactor.wit) against the scripted kernel of
// test/core: SO_REUSEPORT before bind, and handoff mode, where accepted fds
// come out as kind-7 events and never become connections of this reactor.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { E, EV, Harness } from '../core/scripted-host.ts';

import { EV_HANDOFF, LISTEN_HANDOFF as HANDOFF, LISTEN_REUSEPORT as REUSEPORT } from '../../bridge/consts.ts';

function listenEx(h: Harness, flags: number): number {
  const port = h.r.listenEx('127.0.0.1', 0, 4, 64, flags);
  if (port >= 0) {
    h.lfd = [...h.k.fds].pop()!;
    h.tick(); // arms the accept
  }
  return port;
}

test('listen-ex: unknown flag bits are -EINVAL before any socket exists', () => {
  const h = new Harness();
  assert.is(h.r.listenEx('127.0.0.1', 0, 4, 64, 4), -E.EINVAL);
  assert.is(h.r.listenEx('127.0.0.1', 0, 4, 64, 0x80000000), -E.EINVAL);
  assert.is(h.k.count('socket'), 0);
  assert.is(h.k.fds.size, 0);
});

test('listen-ex reuseport: SO_REUSEPORT is set before bind; plain listen never sets it', () => {
  const h = new Harness();
  assert.is(listenEx(h, REUSEPORT), 40000);
  const names = h.k.calls.map((c) => c.name);
  const reuse = h.k.calls.findIndex((c) => c.name === 'setsockopt' && c.args[1] === 1 && c.args[2] === 15 && c.args[3] === 1);
  assert.ok(reuse >= 0, 'SO_REUSEPORT = 1');
  assert.ok(reuse < names.indexOf('bind'), 'before bind');
  assert.ok(h.k.sockopts.some((o) => o.level === 1 && o.name === 2), 'SO_REUSEADDR as well');
  // Connections are served here as with `listen`.
  const c = h.connect();
  assert.ok(c.conn >= 0);
  assert.is(h.stats().accepted, 1n);

  const plain = new Harness();
  plain.listen();
  assert.not.ok(plain.k.sockopts.some((o) => o.level === 1 && o.name === 15), 'no SO_REUSEPORT');
  const zero = new Harness();
  assert.is(listenEx(zero, 0), 40000);
  assert.not.ok(zero.k.sockopts.some((o) => o.level === 1 && o.name === 15), 'flags 0 = listen');
});

test('handoff: accepted fds come out as kind-7 events, unclaimed, no recv armed; re-armed without F_MORE', () => {
  const h = new Harness();
  assert.is(listenEx(h, HANDOFF), 40000);
  const a = h.k.accept(true);
  const b = h.k.accept(false); // the multishot accept ended: the core re-arms it
  const ev = h.tick();
  assert.equal(ev.map((e) => [e.kind, e.conn, e.w1]), [[EV_HANDOFF, 0, a], [EV_HANDOFF, 0, b]]);
  h.r.submit();
  assert.is(h.k.submitted('accept').length, 2, 're-armed');
  assert.is(h.k.submitted('recv').length, 0, 'no recv on a handed-off fd');
  assert.not.ok(h.k.sockopts.some((o) => o.fd === a), 'not touched (no TCP_NODELAY here)');
  assert.ok(h.k.fds.has(a) && h.k.fds.has(b), 'still open: the caller owns them now');
  const s = h.stats();
  assert.is(s.accepted, 0n);
  assert.is(s.connectionsOpen, 0);
  // Not claimed: the fd can be adopted (here by the same core, as a reactor would).
  const conn = h.r.adopt(a);
  assert.ok(conn >= 0);
  assert.equal(h.tick().map((e) => [e.kind, e.w1]), [[EV.OPEN, a]]);
});

test('handoff: accepts racing stop-accepting are closed, not handed off; the mode ends with the listener', () => {
  const h = new Harness();
  listenEx(h, HANDOFF);
  const acc = h.k.last('accept');
  assert.is(h.r.stopAccepting(), 0);
  h.r.submit();
  const late = h.k.accept(true);
  h.k.push(acc.userData, -E.ECANCELED, 0);
  assert.equal(h.tick(), [], 'no handoff event for a racing accept');
  assert.not.ok(h.k.fds.has(late), 'closed');
  assert.not.ok(h.k.fds.has(h.lfd), 'listener closed');
  assert.is(h.r.stopAccepting(), -E.EBADF);
  // A plain listener afterwards serves its connections itself.
  h.listen();
  const c = h.connect();
  assert.ok(c.conn >= 0);
});

test('handoff: destroy closes the listener; fds already handed off are not the core\'s to close', () => {
  const h = new Harness();
  listenEx(h, HANDOFF);
  const a = h.k.accept(true);
  h.tick();
  assert.is(h.r.destroy(), 0);
  assert.not.ok(h.k.fds.has(h.lfd));
  assert.ok(h.k.fds.has(a), 'the handed-off fd is left to its new owner');
});

test.run();
