// Findings 6 and 7 (issue 13), from a Wasm guest, on both backends: socket()
// makes TCP sockets over IPv4/IPv6 only; fcntl keeps FD_CLOEXEC and lets only
// O_NONBLOCK through F_SETFL; send and recv msg flags outside the documented
// sets are -EINVAL. The simulator answers exactly as the native helper does.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createSimBackend } from '../../bridge/sim/index.ts';
import {
  AF_INET, AF_INET6, EAFNOSUPPORT, EINVAL, MSG_NOSIGNAL, O_NONBLOCK, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM,
  fdCount, loadProbe, sleep,
} from '../bridge/probe.ts';
import type { Probe } from '../bridge/probe.ts';
import {
  AF_NETLINK, AF_PACKET, AF_UNIX, EPERM, EPROTONOSUPPORT, FD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, F_SETFL,
  IPPROTO_ICMP, IPPROTO_UDP, MSG_ERRQUEUE, MSG_MORE, MSG_OOB, MSG_PEEK, O_APPEND, O_ASYNC, O_RDWR,
  SOCK_DGRAM, SOCK_RAW,
} from './helpers.ts';

const native = loadProbe();
const fds0 = fdCount();

/** Every rule once; the results by name (both backends must give these). */
function rules(p: Probe): Record<string, number> {
  const out: Record<string, number> = {};
  const sock = (name: string, d: number, t: number, pr: number): void => {
    const fd = p.socket(d, t, pr);
    out[name] = fd >= 0 ? 0 : fd;
    if (fd >= 0) p.close(fd);
  };
  sock('unix', AF_UNIX, SOCK_STREAM, 0);
  sock('netlink', AF_NETLINK, SOCK_RAW, 0);
  sock('packet', AF_PACKET, SOCK_RAW, 0x300 /* htons(ETH_P_ALL) */);
  sock('raw icmp', AF_INET, SOCK_RAW, IPPROTO_ICMP);
  sock('udp', AF_INET, SOCK_DGRAM, 0);
  sock('tcp, udp protocol', AF_INET, SOCK_STREAM, IPPROTO_UDP);
  sock('tcp4', AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sock('tcp6', AF_INET6, SOCK_STREAM, 6);
  const fd = p.socket(AF_INET, SOCK_STREAM, 0); // no SOCK_CLOEXEC asked: the host adds it
  out['F_GETFD'] = p.fcntl(fd, F_GETFD, 0n);
  out['F_SETFD 0'] = p.fcntl(fd, F_SETFD, 0n);
  out['F_SETFD 3'] = p.fcntl(fd, F_SETFD, 3n);
  out['F_SETFD CLOEXEC'] = p.fcntl(fd, F_SETFD, BigInt(FD_CLOEXEC));
  out['F_GETFD after'] = p.fcntl(fd, F_GETFD, 0n);
  out['F_SETFL O_APPEND'] = p.fcntl(fd, F_SETFL, BigInt(O_APPEND));
  out['F_SETFL O_ASYNC'] = p.fcntl(fd, F_SETFL, BigInt(O_ASYNC));
  out['F_SETFL O_RDWR|O_NONBLOCK'] = p.fcntl(fd, F_SETFL, BigInt(O_RDWR | O_NONBLOCK));
  out['F_GETFL nonblock'] = p.fcntl(fd, F_GETFL, 0n) & O_NONBLOCK;
  out['F_SETFL 0'] = p.fcntl(fd, F_SETFL, 0n);
  out['F_SETFL 2^32'] = p.fcntl(fd, F_SETFL, 1n << 32n);
  const ring = p.createRing(16);
  const slab = p.slabCreate(4096);
  const send = (name: string, flags: number): void => {
    const s = p.getSqe(ring);
    out[name] = p.prepSend(s, fd, slab, 0, 1, flags);
  };
  send('send MSG_OOB', MSG_OOB);
  send('send MSG_PEEK', MSG_PEEK);
  send('send 0x80000000', 0x80000000);
  send('send MSG_MORE|MSG_NOSIGNAL', MSG_MORE | MSG_NOSIGNAL);
  out['sendmsg MSG_OOB'] = p.prepSendmsg(p.getSqe(ring), fd, [{ slab, offset: 0, len: 1 }], MSG_OOB);
  out['recv MSG_PEEK'] = p.prepRecvMultishotSelect(p.getSqe(ring), fd, 0, MSG_PEEK);
  out['recv MSG_ERRQUEUE'] = p.prepRecvMultishotSelect(p.getSqe(ring), fd, 0, MSG_ERRQUEUE);
  out['recv MSG_OOB'] = p.prepRecvMultishotSelect(p.getSqe(ring), fd, 0, MSG_OOB);
  out['recv 0'] = p.prepRecvMultishotSelect(p.getSqe(ring), fd, 0, 0);
  p.destroyRing(ring);
  p.slabDestroy(slab);
  p.close(fd);
  return out;
}

const EXPECTED: Record<string, number> = {
  'unix': EAFNOSUPPORT, 'netlink': EAFNOSUPPORT, 'packet': EAFNOSUPPORT, 'raw icmp': EINVAL, 'udp': EINVAL,
  'tcp, udp protocol': EPROTONOSUPPORT, 'tcp4': 0, 'tcp6': 0,
  'F_GETFD': FD_CLOEXEC, 'F_SETFD 0': EPERM, 'F_SETFD 3': EINVAL, 'F_SETFD CLOEXEC': 0, 'F_GETFD after': FD_CLOEXEC,
  'F_SETFL O_APPEND': EINVAL, 'F_SETFL O_ASYNC': EINVAL, 'F_SETFL O_RDWR|O_NONBLOCK': 0, 'F_GETFL nonblock': O_NONBLOCK,
  'F_SETFL 0': 0, 'F_SETFL 2^32': EINVAL,
  'send MSG_OOB': EINVAL, 'send MSG_PEEK': EINVAL, 'send 0x80000000': EINVAL, 'send MSG_MORE|MSG_NOSIGNAL': 0,
  'sendmsg MSG_OOB': EINVAL, 'recv MSG_PEEK': EINVAL, 'recv MSG_ERRQUEUE': EINVAL, 'recv MSG_OOB': EINVAL, 'recv 0': 0,
};

test('native: only TCP sockets, close-on-exec kept, O_NONBLOCK only, msg flags masked', () => {
  assert.equal(rules(native.probe), EXPECTED);
  assert.is(native.backend.ownedFds(), 0);
});

test('sim: the same answers', () => {
  const sim = createSimBackend({ seed: 13 });
  const { probe } = loadProbe(false, sim);
  assert.equal(rules(probe), EXPECTED);
  assert.is(sim.ownedFds(), 0);
});

test('a child process inherits no guest socket (close-on-exec cannot be cleared)', () => {
  const p = native.probe;
  const fd = p.socket(AF_INET, SOCK_STREAM, 0);
  p.fcntl(fd, F_SETFD, 0n);
  const r = spawnSync('/bin/sh', ['-c', `test -e /proc/self/fd/${fd} && echo inherited || echo clean`], { encoding: 'utf8' });
  assert.is(r.stdout.trim(), 'clean');
  assert.is(p.close(fd), 0);
});

test('nothing leaked by this file', async () => {
  await sleep(10);
  assert.is(native.backend.ownedFds(), 0);
  assert.is(fdCount(), fds0);
});

test.run();
