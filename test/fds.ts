// Descriptor accounting shared by every test that checks for leaks.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

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

