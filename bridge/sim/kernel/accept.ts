// Multishot accept: one CQE with F_MORE per queued connection while the CQ
// has room; the new fd is installed at once (lowest free) and becomes the
// guest's when it reads the CQE.
import * as C from '../consts.ts';
import { arm, finish } from './op.ts';
import type { Op } from './op.ts';
import { Sock } from './socket.ts';
import type { KernelState } from './state.ts';

export function attemptAccept(k: KernelState, op: Op): void {
  const sock = op.sock!;
  if (sock.state !== 'listening') return finish(k, op, -C.EINVAL);
  const rng = k.world.rng;
  for (let i = 0; i < 8; i++) {
    const ep = sock.acceptQ[0];
    if (ep === undefined) return arm(op);
    if (ep.rstRcvd && rng.chance(k.world.faults.acceptAbort)) {
      sock.acceptQ.shift();
      ep.abort();
      return finish(k, op, -C.ECONNABORTED);
    }
    const s = new Sock(k, sock.domain);
    // the fd is taken now (lowest free); the guest owns it once it reads the CQE
    const fd = k.files.install(s, false);
    if (fd < 0) return finish(k, op, fd); // -EMFILE: the connection stays queued
    sock.acceptQ.shift();
    s.fd = fd;
    s.state = 'connected';
    s.local = { ...ep.local };
    s.nodelay = false;
    s.fdFlags = C.FD_CLOEXEC; // the host always adds SOCK_CLOEXEC
    s.flFlags = C.O_RDWR | ((op.flags & C.SOCK_NONBLOCK) !== 0 ? C.O_NONBLOCK : 0);
    s.ep = ep;
    ep.owner = s;
    ep.onChange = () => k.wake(s);
    k.liveSockets.add(s);
    k.acceptedSocks.push(s);
    k.counters.accepted++;
    if (k.world.tracing) k.world.trace.note(`accept fd ${fd} <- client ${ep.clientId}`);
    if (!op.ring.postMore(op.userData, fd, 0, fd)) return finish(k, op, fd, 0, false, fd);
  }
  if (sock.acceptQ.length > 0) k.kick(op);
  arm(op);
}
