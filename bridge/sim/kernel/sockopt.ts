// Socket options and fcntl: only what the native backend lets a guest set
// (docs/SECURITY.md): close-on-exec stays, O_NONBLOCK is the one file flag.
import * as C from '../consts.ts';
import { guestSock, notSock } from './socket.ts';
import type { KernelState } from './state.ts';

export function setsockopt(k: KernelState, fd: number, level: number, optname: number, value: number): number {
  const s = guestSock(k, fd);
  if (s === undefined) return notSock(k, fd);
  if (level === C.SOL_SOCKET) {
    switch (optname) {
      case C.SO_REUSEADDR:
        s.reuseAddr = value !== 0;
        return 0;
      case C.SO_REUSEPORT:
        s.reusePort = value !== 0;
        return 0;
      case C.SO_KEEPALIVE:
        s.keepalive = value !== 0;
        return 0;
      case C.SO_RCVBUF:
        s.rcvbuf = Math.max(2304, Math.min(value, 212992) * 2);
        return 0;
      case C.SO_SNDBUF:
        s.sndbuf = Math.max(4608, Math.min(value, 212992) * 2);
        return 0;
      default:
        return -C.ENOPROTOOPT;
    }
  }
  if (level === C.IPPROTO_TCP) {
    if (optname === C.TCP_NODELAY) {
      s.nodelay = value !== 0;
      return 0;
    }
    return -C.ENOPROTOOPT;
  }
  if (level === C.IPPROTO_IPV6) {
    if (s.domain !== C.AF_INET6) return -C.ENOPROTOOPT;
    if (optname === C.IPV6_V6ONLY) {
      if (s.state !== 'fresh') return -C.EINVAL;
      s.v6only = value !== 0;
      return 0;
    }
    return -C.ENOPROTOOPT;
  }
  return -C.ENOPROTOOPT;
}

export function fcntl(k: KernelState, fd: number, cmd: number, arg: bigint): number {
  const s = guestSock(k, fd);
  if (s === undefined) return -C.EBADF;
  if (arg < -0x80000000n || arg > 0x7fffffffn) return -C.EINVAL;
  const a = Number(arg);
  switch (cmd) {
    case C.F_GETFD:
      return s.fdFlags;
    case C.F_SETFD:
      if ((a & ~C.FD_CLOEXEC) !== 0) return -C.EINVAL;
      if ((a & C.FD_CLOEXEC) === 0) return -C.EPERM; // close-on-exec stays
      return 0;
    case C.F_GETFL:
      return s.flFlags;
    case C.F_SETFL:
      if ((a & ~(C.O_NONBLOCK | C.O_ACCMODE)) !== 0) return -C.EINVAL;
      s.flFlags = (s.flFlags & ~C.O_NONBLOCK) | (a & C.O_NONBLOCK);
      return 0;
    default:
      return -C.EINVAL;
  }
}
