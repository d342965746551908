// Descriptor accounting shared by every test that checks for leaks.
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';

/**
 * Descriptors of this process of the kinds a server can leak: sockets and
 * anonymous inodes (io_uring rings, eventfds). Pipes and directories are left
 * out: tsx opens its cache directory and starts its esbuild service (pipes)
 * lazily, the first time a worker thread compiles with a cold cache.
 */
export function procFds(): number {
  const skip = runtimeUnixSockets();
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (skip !== undefined && skip.has(target)) continue;
      if (target.startsWith('socket:') || target.startsWith('anon_inode:')) n++;
    } catch {
      // closed between readdir and readlink (e.g. the readdir's own fd)
    }
  }
  return n;
}

/**
 * Under Deno, AF_UNIX sockets are left out: Deno's runtime opens a Unix
 * socketpair lazily in the middle of a test and keeps it (seen in
 * /proc/net/unix during a loopback echo), which would read as a leak. The
 * reactor opens only TCP sockets, rings and eventfds, all still counted.
 */
function runtimeUnixSockets(): Set<string> | undefined {
  if (!('Deno' in globalThis)) return undefined;
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    const inode = line.trim().split(/\s+/)[6];
    if (inode !== undefined && inode !== '0') inodes.add(`socket:[${inode}]`);
  }
  return inodes;
}


const TCP_STATES = ['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE',
  'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING'];

/** socket inode -> "local->remote STATE" for this process's TCP sockets. */
function tcpSockets(): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    let text = '';
    try { text = readFileSync(f, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c.length < 10) continue;
      const port = (hexAddr: string): number => parseInt(hexAddr.split(':')[1] ?? '0', 16);
      m.set(c[9]!, `tcp :${port(c[1]!)}->:${port(c[2]!)} ${TCP_STATES[parseInt(c[3]!, 16)] ?? c[3]}`);
    }
  }
  return m;
}

/**
 * A one-line-per-fd account of what procFds() counts, with each socket's TCP
 * state and, when the native helper is loaded, which zergling guest owns it
 * (-1: in transit between two). For leak assertions' messages: a failure on
 * a cold machine must say which fd was left, not only how many.
 */
export async function fdReport(): Promise<string> {
  const tcp = tcpSockets();
  const owners = new Map<number, number>();
  try {
    const native = await import('../bridge/native.ts');
    for (const { fd, owner } of native.fdOwners()) owners.set(fd, owner);
  } catch { /* no native helper in this runtime: sockets only */ }
  const lines: string[] = [];
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    let target: string;
    try { target = readlinkSync(`/proc/self/fd/${name}`); } catch { continue; }
    if (!target.startsWith('socket:') && !target.startsWith('anon_inode:') && !owners.has(fd)) continue;
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    const owner = owners.get(fd);
    lines.push(`fd ${fd} ${target}${inode !== undefined && tcp.has(inode) ? ` ${tcp.get(inode)}` : ''}` +
      `${owner === undefined ? '' : owner === -1 ? ' [zergling: in transit]' : ` [zergling guest ${owner}]`}`);
  }
  for (const [fd, owner] of owners) {
    if (!existsSync(`/proc/self/fd/${fd}`)) lines.push(`fd ${fd} (closed) [zergling tag ${owner} left on a closed fd]`);
  }
  return lines.join('\n');
}
