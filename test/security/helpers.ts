// Shared by the sandbox regression tests (not a test file itself): a runtime
// fd the guest must never reach, and small probe-guest helpers.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { AF_INET, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM, sleep } from '../bridge/probe.ts';
import type { Probe } from '../bridge/probe.ts';

export const F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, FD_CLOEXEC = 1;
export const AF_UNIX = 1, AF_NETLINK = 16, AF_PACKET = 17, SOCK_DGRAM = 2, SOCK_RAW = 3;
export const IPPROTO_UDP = 17, IPPROTO_ICMP = 1;
export const EPERM = -1, EBUSY = -16, EEXIST = -17, EPROTONOSUPPORT = -93;
export const IORING_ASYNC_CANCEL_ALL = 1;
export const MSG_OOB = 1, MSG_PEEK = 2, MSG_MORE = 0x8000, MSG_ERRQUEUE = 0x2000;
export const O_APPEND = 0x400, O_ASYNC = 0x2000, O_RDWR = 2;

/**
 * A child process with piped stdio: Node's end of its stdin is a socketpair
 * (an unnamed AF_UNIX socket) of the runtime's own, the kind of fd the guest
 * once took over. `alive()` checks it still carries bytes both ways.
 */
export interface RuntimeFd {
  fd: number;
  alive(): Promise<boolean>;
  stop(): Promise<void>;
}

export async function runtimeSocketpair(): Promise<RuntimeFd> {
  const child: ChildProcessWithoutNullStreams = spawn('cat', [], { stdio: ['pipe', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => { child.once('spawn', resolve); child.once('error', reject); });
  const fd = (child.stdin as unknown as { _handle: { fd: number } })._handle.fd;
  if (!readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) throw new Error(`fd ${fd} is not a socket`);
  let got = '';
  child.stdout.on('data', (b: Buffer) => { got += b.toString(); });
  return {
    fd,
    async alive(): Promise<boolean> {
      const token = `ping-${Math.random()}`;
      child.stdin.write(token);
      for (let i = 0; i < 200 && !got.includes(token); i++) await sleep(5);
      return got.includes(token);
    },
    async stop(): Promise<void> {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.stdin.end();
      await exited;
    },
  };
}

/** A guest TCP socket (unbound, not listening). */
export function tcpSocket(p: Probe): number {
  const fd = p.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error(`socket = ${fd}`);
  return fd;
}

/** One prepared SQE: get-sqe, `prep`, set-data. Returns the handle. */
export function prep(p: Probe, ring: number, ud: bigint, fn: (sqe: number) => number): number {
  const s = p.getSqe(ring);
  if (s < 0) throw new Error(`get-sqe = ${s}`);
  const r = fn(s);
  if (r !== 0) throw new Error(`prep = ${r}`);
  if (p.sqeSetData64(s, ud) !== 0) throw new Error('sqe-set-data64');
  return s;
}

/** Does the guest own fd (the host's answer to F_GETFD)? */
export function guestOwns(p: Probe, fd: number): boolean {
  return p.fcntl(fd, F_GETFD, 0n) >= 0;
}
