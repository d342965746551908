// Findings 1 and 5 (issue 13), from a Wasm guest: the host never infers that a
// CQE's `res` is an fd. An accept may not share its user_data with another
// kind of operation (in flight or in the same flush): the flush is refused
// with -EINVAL, so every CQE under an accept's user_data really is an accept's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AF_INET, EAFNOSUPPORT, EINVAL, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR,
  collect, connect, fdCount, listenFromWasm, loadProbe, sleep,
} from '../bridge/probe.ts';
import { AF_UNIX, IORING_ASYNC_CANCEL_ALL, guestOwns, prep, runtimeSocketpair, tcpSocket } from './helpers.ts';

const { backend, probe: p } = loadProbe();
const fds0 = fdCount();

test('a cancel-all CQE sharing an accept\'s user_data never makes its count (a runtime fd) the guest\'s', async () => {
  const rt = await runtimeSocketpair();
  const N = rt.fd;
  const owned0 = backend.ownedFds();
  const ring = p.createRing(128);
  assert.ok(ring > 0);
  const l = listenFromWasm(p, 4);
  const T = 0x7777n, X = 0x5858n, Y = 0x5959n;
  // N multishot accepts under T: cancelling them all gives a CQE whose res is N.
  for (let i = 0; i < N; i++) prep(p, ring, T, (s) => p.prepMultishotAccept(s, l.fd, 0));
  assert.is(p.submit(ring), N);
  // G: an unnamed AF_UNIX socket once (same name as the runtime's socketpair);
  // now socket() refuses AF_UNIX, and G is a TCP socket that is not listening.
  let g = p.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (g < 0) {
    assert.is(g, EAFNOSUPPORT);
    g = tcpSocket(p);
  }
  prep(p, ring, X, (s) => p.prepMultishotAccept(s, g, 0));
  const cancel = prep(p, ring, X, (s) => p.prepCancel64(s, T, IORING_ASYNC_CANCEL_ALL));
  const sub = p.submit(ring);
  if (sub === EINVAL) {
    assert.is(p.sqReady(ring), 2, 'refused: nothing flushed');
    assert.is(p.sqeSetData64(cancel, Y), 0);
    assert.is(p.submit(ring), 2);
  } else {
    assert.is(sub, 2);
  }
  const cqes = await collect(p, ring, (all) => all.filter((c) => c.userData === T).length === N &&
    all.some((c) => c.userData === X) && all.some((c) => (c.userData === X || c.userData === Y) && c.res === N));
  assert.ok(cqes.some((c) => c.res === N), 'the cancel\'s CQE carries N');
  assert.is(guestOwns(p, N), false, `the runtime's socketpair fd ${N} is not the guest's`);
  assert.is(p.close(N), -9);
  assert.is(backend.ownedFds(), owned0 + 2, 'the guest owns its listener and G, nothing more');
  assert.is(sub, EINVAL, 'the mixed flush was refused');
  assert.ok(await rt.alive(), 'the runtime\'s socketpair still works');
  assert.is(p.destroyRing(ring), 0);
  assert.is(p.close(g), 0);
  assert.is(p.close(l.fd), 0);
  assert.ok(await rt.alive());
  await rt.stop();
});

test('an accept on a 0.0.0.0 listener sharing user_data with a recv: refused, and no accepted fd leaks', async () => {
  const base = fdCount();
  const ring = p.createRing(16);
  const lfd = p.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  assert.is(p.setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, 1), 0);
  assert.is(p.bind(lfd, 0, 0 /* INADDR_ANY: accepted sockets' names differ from the listener's */), 0);
  assert.is(p.listen(lfd, 16), 0);
  const port = p.getsockname(lfd).port;
  const other = tcpSocket(p); // not connected: a recv on it ends at once
  const U = 0x4242n;
  prep(p, ring, U, (s) => p.prepMultishotAccept(s, lfd, SOCK_NONBLOCK));
  const recv = prep(p, ring, U, (s) => p.prepRecvMultishotSelect(s, other, 0, 0));
  assert.is(p.submit(ring), EINVAL, 'one user_data for an accept and a recv is refused');
  assert.is(p.sqeSetData64(recv, U + 1n), 0);
  assert.is(p.submit(ring), 2);
  const clients = [];
  for (let i = 0; i < 3; i++) clients.push(await connect(port, '127.0.0.1'));
  const cqes = await collect(p, ring, (all) => all.filter((c) => c.userData === U && c.res >= 0).length === 3);
  for (const c of cqes.filter((k) => k.userData === U && k.res >= 0)) {
    assert.ok(guestOwns(p, c.res), `accepted fd ${c.res} is the guest's`);
    assert.is(p.close(c.res), 0);
  }
  for (const c of clients) c.sock.destroy();
  assert.is(p.destroyRing(ring), 0);
  assert.is(p.close(other), 0);
  assert.is(p.close(lfd), 0);
  await sleep(20);
  assert.is(fdCount(), base, 'every accepted fd was closed: none leaked');
});

test('nothing leaked by this file', async () => {
  await sleep(20);
  assert.is(backend.ownedFds(), 0);
  assert.is(fdCount(), fds0);
});

test.run();
