// Bad input from Wasm: wrong handles of every kind, SQE handles used after
// submit, ranges outside a slab, buffer ids past the ring, closed fds and fds
// the guest never owned. Each gets its errno; the process lives on.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readlinkSync } from 'node:fs';
import {
  AF_INET, EBADF, EFAULT, EINVAL, F_GETFD, F_GETFL, LOOPBACK4, MS, MSG_NOSIGNAL, SOCK_CLOEXEC, SOCK_NONBLOCK,
  SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, big, collect, connect, fdCount, listenFromWasm, loadProbe, sleep,
} from './probe.ts';

const { backend, probe: p } = loadProbe();
const BOGUS = [0xdead, 0x7fff_ffff, 0xffff_ffff];

/** A guest-owned TCP socket (a valid fd for prep calls). */
function sock(): number {
  const fd = p.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  assert.ok(fd >= 0);
  return fd;
}

test('unknown and destroyed ring handles: -EBADF from every ring call', () => {
  const dead = p.createRing(4);
  assert.ok(dead >= 0);
  assert.is(p.destroyRing(dead), 0);
  for (const r of [...BOGUS, dead]) {
    const tag = `ring ${r}`;
    assert.is(p.destroyRing(r), EBADF, tag);
    assert.is(p.getRingFlags(r), BigInt(EBADF), tag);
    assert.is(p.getSqe(r), EBADF, tag);
    assert.is(p.submit(r), EBADF, tag);
    assert.is(p.submitAndWait(r, 1), EBADF, tag);
    assert.is(p.submitAndWaitTimeout(r, 1, MS), EBADF, tag);
    assert.is(p.enter(r, 0, 0, 0, -1n), EBADF, tag);
    assert.is(p.enter(r, 1, 1, 1, MS), EBADF, tag);
    assert.is(p.waitCqe(r).ret, EBADF, tag);
    assert.is(p.waitCqeTimeout(r, MS).ret, EBADF, tag);
    assert.is(p.waitCqes(r, 1, MS).ret, EBADF, tag);
    assert.is(p.reap(r, 64).length, 0, tag);
    assert.is(p.cqeSeen(r), EBADF, tag);
    assert.is(p.cqAdvance(r, 1), EBADF, tag);
    assert.is(p.cqReady(r), EBADF, tag);
    assert.is(p.sqReady(r), EBADF, tag);
    assert.is(p.setupBufRing(r, 8, 0, 0), EBADF, tag);
  }
});

test('bad ring parameters: -EINVAL', () => {
  assert.is(p.createRing(0), EINVAL, 'zero entries');
  assert.ok(p.createRing(1 << 20) < 0, 'more entries than the kernel allows');
  assert.is(p.createRingEx(8, 0x8000_0000, -1, 0), EINVAL, 'unknown setup flag');
  const r = p.createRing(4);
  assert.is(p.cqAdvance(r, 1), EINVAL, 'advance on an empty CQ');
  assert.is(p.setupBufRing(r, 3, 0, 0), EINVAL, 'entries not a power of two');
  assert.is(p.setupBufRing(r, 0, 0, 0), EINVAL, 'zero entries');
  assert.is(p.destroyRing(r), 0);
});

test('SQE handles: unknown, used after submit, after destroy-ring -> -EBADF', () => {
  const r = p.createRing(8);
  const fd = sock();
  const slab = p.slabCreate(4096);
  const calls = (s: number): Array<[string, number]> => [
    ['sqe-set-data64', p.sqeSetData64(s, 1n)],
    ['prep-send', p.prepSend(s, fd, slab, 0, 16, MSG_NOSIGNAL)],
    ['prep-sendmsg', p.prepSendmsg(s, fd, [{ slab, offset: 0, len: 16 }], 0)],
    ['prep-multishot-accept', p.prepMultishotAccept(s, fd, 0)],
    ['prep-recv-multishot-select', p.prepRecvMultishotSelect(s, fd, 0, 0)],
    ['prep-cancel64', p.prepCancel64(s, 1n, 0)],
  ];
  for (const s of BOGUS) for (const [name, ret] of calls(s)) assert.is(ret, EBADF, `${name} on sqe ${s}`);

  const s1 = p.getSqe(r);
  assert.ok(s1 >= 0);
  assert.is(p.sqeSetData64(s1, 5n), 0, 'valid before submit');
  assert.is(p.submit(r), 1);
  for (const [name, ret] of calls(s1)) assert.is(ret, EBADF, `${name} after submit`);
  assert.is(p.submitAndWait(r, 1), 0);
  assert.is(p.cqAdvance(r, 1), 0);

  const s2 = p.getSqe(r);
  assert.ok(s2 >= 0);
  assert.is(p.destroyRing(r), 0);
  for (const [name, ret] of calls(s2)) assert.is(ret, EBADF, `${name} after destroy-ring`);
  assert.is(p.close(fd), 0);
  assert.is(p.slabDestroy(slab), 0);
});

test('buffer rings: unknown and freed handles -> -EBADF; buffer ids past the ring, wrong mask -> -EINVAL', () => {
  const r = p.createRing(8);
  const slab = p.slabCreate(16 * 512);
  for (const b of BOGUS) {
    assert.is(p.bufRingAdd(b, slab, 0, 512, 0, 15, 0), EBADF, `buf-ring-add on ${b}`);
    assert.is(p.bufRingAdvance(b, 1), EBADF, `buf-ring-advance on ${b}`);
    assert.is(p.freeBufRing(r, b), EBADF, `free-buf-ring on ${b}`);
  }
  const br = p.setupBufRing(r, 16, 1, 0);
  assert.ok(br >= 0);
  assert.is(p.bufRingAdd(br, slab, 0, 512, 15, 15, 0), 0, 'the last bid is fine');
  assert.is(p.bufRingAdd(br, slab, 0, 512, 16, 15, 0), EINVAL, 'bid == entries');
  assert.is(p.bufRingAdd(br, slab, 0, 512, 0xffff, 15, 0), EINVAL, 'bid 0xffff');
  assert.is(p.bufRingAdd(br, slab, 0, 512, 0xffff_ffff, 15, 0), EINVAL, 'bid 2^32-1');
  assert.is(p.bufRingAdd(br, slab, 0, 512, 0, 16, 0), EINVAL, 'mask != entries-1');
  assert.is(p.bufRingAdd(br, slab, 0, 512, 0, 31, 0), EINVAL, 'mask too wide');
  for (const s of BOGUS) assert.is(p.bufRingAdd(br, s, 0, 512, 0, 15, 0), EBADF, `slab ${s}`);
  assert.is(p.freeBufRing(r, br), 0);
  assert.is(p.bufRingAdd(br, slab, 0, 512, 0, 15, 0), EBADF, 'after free');
  assert.is(p.bufRingAdvance(br, 1), EBADF, 'after free');
  assert.is(p.freeBufRing(r, br), EBADF, 'freed twice');
  assert.is(p.destroyRing(r), 0);
  assert.is(p.slabDestroy(slab), 0);
});

test('slabs: unknown and destroyed handles -> -EBADF; ranges outside -> -EFAULT', () => {
  const r = p.createRing(64);
  const fd = sock();
  const SIZE = 8192;
  const slab = p.slabCreate(SIZE);
  assert.ok(slab >= 0);
  for (const s of BOGUS) assert.is(p.slabDestroy(s), EBADF, `slab-destroy ${s}`);

  const send = (slabH: number, off: number, len: number) => p.prepSend(p.getSqe(r), fd, slabH, off, len, 0);
  const sendmsg = (iov: Array<{ slab: number; offset: number; len: number }>) => p.prepSendmsg(p.getSqe(r), fd, iov, 0);
  const add = (off: number, len: number) => p.bufRingAdd(br, slab, off, len, 0, 7, 0);
  const br = p.setupBufRing(r, 8, 2, 0);
  assert.ok(br >= 0);

  const inside: Array<[number, number]> = [[0, SIZE], [SIZE - 1, 1], [100, 200]];
  const outside: Array<[number, number]> = [
    [SIZE, 1], [0, SIZE + 1], [SIZE - 1, 2], [0xffff_ffff, 2], [1, 0xffff_ffff], [0x8000_0000, 0x8000_0000],
    [SIZE * 2, 16],
  ];
  for (const [off, len] of inside) {
    assert.is(send(slab, off, len), 0, `prep-send [${off}, +${len})`);
    assert.is(add(off, len), 0, `buf-ring-add [${off}, +${len})`);
  }
  for (const [off, len] of outside) {
    assert.is(send(slab, off, len), EFAULT, `prep-send [${off}, +${len})`);
    assert.is(add(off, len), EFAULT, `buf-ring-add [${off}, +${len})`);
    assert.is(sendmsg([{ slab, offset: 0, len: 4 }, { slab, offset: off, len }]), EFAULT, `prep-sendmsg [${off}, +${len})`);
  }
  const many = Array.from({ length: 65 }, () => ({ slab, offset: 0, len: 1 }));
  assert.is(sendmsg(many), EINVAL, '65 iovecs');
  assert.is(sendmsg(many.slice(0, 64)), 0, '64 iovecs');
  for (const s of BOGUS) {
    assert.is(send(s, 0, 1), EBADF, `prep-send slab ${s}`);
    assert.is(sendmsg([{ slab: s, offset: 0, len: 1 }]), EBADF, `prep-sendmsg slab ${s}`);
  }
  // Nothing was submitted: destroying the ring drops the prepared SQEs.
  assert.is(p.destroyRing(r), 0);
  assert.is(p.slabDestroy(slab), 0);
  assert.is(p.slabDestroy(slab), EBADF, 'destroyed twice');
  const r2 = p.createRing(4);
  assert.is(p.prepSend(p.getSqe(r2), fd, slab, 0, 1, 0), EBADF, 'a destroyed slab');
  assert.is(p.destroyRing(r2), 0);
  assert.is(p.close(fd), 0);
});

test('fds: closed ones and ones the guest never owned (stdio, the ring fd, every fd of this process) -> -EBADF', () => {
  const r = p.createRing(4);
  const fd = sock();
  assert.is(p.close(fd), 0);
  const s = p.getSqe(r);
  const slab = p.slabCreate(4096);
  const fdCalls = (f: number): Array<[string, number]> => [
    ['fcntl', p.fcntl(f, F_GETFL, 0n)],
    ['setsockopt', p.setsockopt(f, SOL_SOCKET, SO_REUSEADDR, 1)],
    ['bind', p.bind(f, 0, LOOPBACK4)],
    ['bind6', p.bind6(f, 0, 0, 0n, 1n, 0)],
    ['listen', p.listen(f, 1)],
    ['shutdown', p.shutdown(f, 2)],
    ['getsockname', p.getsockname(f).ret],
    ['getpeername', p.getpeername(f).ret],
    ['prep-send', p.prepSend(s, f, slab, 0, 1, 0)],
    ['prep-sendmsg', p.prepSendmsg(s, f, [{ slab, offset: 0, len: 1 }], 0)],
    ['prep-multishot-accept', p.prepMultishotAccept(s, f, 0)],
    ['prep-recv-multishot-select', p.prepRecvMultishotSelect(s, f, 0, 0)],
  ];
  for (const f of [fd, 0, 1, 2, -1, 1 << 30]) {
    for (const [name, ret] of fdCalls(f)) assert.is(ret, EBADF, `${name}(${f})`);
  }
  for (const f of [fd, 0, 1, 2]) assert.is(p.close(f), EBADF, `close(${f})`);

  // Every fd this process has (libuv's epoll and eventfds, the ring's fd, ...):
  // the guest owns none of them now.
  assert.is(backend.ownedFds(), 0);
  const all = readdirSync('/proc/self/fd').map(Number);
  const kinds = new Map<number, string>();
  for (const f of all) {
    try { kinds.set(f, readlinkSync(`/proc/self/fd/${f}`)); } catch { /* the readdir's own fd */ }
  }
  assert.ok([...kinds.values()].some((k) => k.includes('io_uring')), `a ring fd among ${JSON.stringify([...kinds])}`);
  for (const [f, kind] of kinds) {
    assert.is(p.fcntl(f, F_GETFD, 0n), EBADF, `fcntl(${f} -> ${kind})`);
    assert.is(p.close(f), EBADF, `close(${f} -> ${kind})`);
  }
  assert.is(readdirSync('/proc/self/fd').length, all.length, 'no fd of the process was closed');
  assert.is(p.destroyRing(r), 0);
  assert.is(p.slabDestroy(slab), 0);
});

test('an accept sharing its user-data with another operation is refused at submit; re-tagged, the accepted fd is the guest\'s, never leaked', async () => {
  for (const other of ['nop', 'recv'] as const) {
    const base = fdCount();
    const r = p.createRing(8);
    const l = listenFromWasm(p, 4);
    const fd2 = sock(); // unconnected: a recv on it ends at once
    const D = 0x5ba7edn;
    let s = p.getSqe(r);
    assert.is(p.prepMultishotAccept(s, l.fd, SOCK_NONBLOCK | SOCK_CLOEXEC), 0);
    assert.is(p.sqeSetData64(s, D), 0);
    s = p.getSqe(r);
    if (other === 'recv') assert.is(p.prepRecvMultishotSelect(s, fd2, 0, 0), 0);
    assert.is(p.sqeSetData64(s, D), 0);
    // One user-data for an accept and another kind: the flush is refused (a
    // CQE under D could not be told apart); re-tagged, it goes through.
    assert.is(p.submit(r), EINVAL);
    assert.is(p.sqReady(r), 2);
    assert.is(p.sqeSetData64(s, D + 1n), 0);
    assert.is(p.submit(r), 2);
    const c = await connect(l.port, '127.0.0.1');
    // The accept's CQE is the one with a res >= 3 (the other ends with 0 or -errno).
    const cqes = await collect(p, r, (all) => all.some((k) => k.res >= 3));
    const acc = cqes.find((k) => k.res >= 3)!;
    const closed = p.close(acc.res);
    assert.ok(closed === 0 || closed === EBADF, `close(accepted ${acc.res}) = ${closed}`);
    assert.is(p.destroyRing(r), 0);
    assert.is(p.close(fd2), 0);
    assert.is(p.close(l.fd), 0);
    c.sock.destroy();
    await sleep(20);
    let still = 'closed';
    try { still = readlinkSync(`/proc/self/fd/${acc.res}`); } catch { /* closed: good */ }
    assert.is(fdCount(), base, `${other}: accepted fd ${acc.res} (guest close: ${closed}) is ${still}`);
  }
});

test('the process lives: a ring still works, timers still fire', async () => {
  const r = p.createRing(4);
  const s = p.getSqe(r);
  assert.is(p.sqeSetData64(s, 77n), 0);
  assert.is(p.submitAndWait(r, 1), 1);
  const c = p.waitCqe(r);
  assert.is(c.ret, 0, JSON.stringify(c, big));
  assert.is(c.data64, 77n);
  assert.is(p.cqeSeen(r), 0);
  assert.is(p.destroyRing(r), 0);
  let fired = false;
  setTimeout(() => (fired = true), 1);
  await sleep(20);
  assert.ok(fired);
  assert.is(backend.ownedFds(), 0);
});

test.run();
