// Cluster options: validated in the main thread before any thread, ring or
// socket exists. The per-reactor options are `listen()`'s, checked by the same
// resolveOptions, and travel to every worker as plain data.
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Connection } from '../connection.ts';
import { invalidArgType, invalidArgValue, outOfRange } from '../errors.ts';
import { resolveOptions, type ListenOptions, type ResolvedOptions } from '../options.ts';
import type { Distribution, ReactorError } from './protocol.ts';

export interface ClusterOptions<O = unknown>
  extends Omit<ListenOptions<Connection>, 'onConnection' | 'onError' | 'backend'> {
  /** Reactor threads. Default: os.availableParallelism(). 1..256. */
  reactors?: number;
  /**
   * The handler module every reactor thread imports: a `URL`, a path
   * (absolute, or relative to the current directory), or a package name. Its
   * default export `(conn, options, reactor) => void | Promise<void>` serves
   * each connection; an optional `setup(options, reactor)` export runs once
   * per thread before it takes connections.
   */
  handler: URL | string;
  /** Passed to the handler (structured-cloned into every thread). */
  handlerOptions?: O;
  /**
   * 'acceptor' (default): one accept ring on the main thread hands fds to the
   * reactors round-robin. 'reuseport': every reactor listens on the port with
   * SO_REUSEPORT and the kernel spreads connections by a hash of the address.
   */
  distribution?: Distribution;
  /** Pin reactor thread i to the i-th CPU this process may run on (best effort). Default false. */
  pinThreads?: boolean;
  /** fds accepted and not yet taken by a reactor, per reactor (power of two). Default 4096. */
  channelCapacity?: number;
  /** Errors of a reactor: a handler that threw, a listener error, a crashed thread. */
  onError?: (err: ReactorError) => void;
}

export interface ResolvedCluster {
  reactors: number;
  handler: string;
  handlerOptions: unknown;
  distribution: Distribution;
  pinThreads: boolean;
  channelCapacity: number;
  /** The per-reactor options, as `listen()` resolves them. */
  opts: ResolvedOptions;
}

const CLUSTER_KEYS = ['reactors', 'handler', 'handlerOptions', 'distribution', 'pinThreads',
  'channelCapacity', 'onError', 'signal'];

/** The handler as a module specifier a worker can import. */
function handlerSpecifier(h: unknown): string {
  if (h instanceof URL) return h.href;
  if (typeof h !== 'string') throw invalidArgType('options.handler', 'of type string or an instance of URL', h);
  if (h.length === 0) throw invalidArgValue('options.handler', h, 'must be a module path or URL');
  if (isAbsolute(h) || h.startsWith('./') || h.startsWith('../')) return pathToFileURL(resolve(h)).href;
  if (/^[a-z][a-z0-9+.-]+:/i.test(h)) return h; // file:, data:, node:
  return h; // a package name, resolved from the worker
}

export function resolveCluster<O>(options: ClusterOptions<O>): ResolvedCluster {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalidArgType('options', 'of type object', options);
  }
  const o = options as unknown as Record<string, unknown>;
  if (o.backend !== undefined && o.backend !== 'native') {
    throw invalidArgValue('options.backend', o.backend, "must be 'native': every reactor thread creates its own");
  }
  if (o.onConnection !== undefined) {
    throw invalidArgValue('options.onConnection', o.onConnection, 'is not supported with reactors: use options.handler (a module)');
  }
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!CLUSTER_KEYS.includes(k) && k !== 'backend') rest[k] = v;
  const opts = resolveOptions(rest);

  let reactors = availableParallelism();
  if (o.reactors !== undefined) {
    if (typeof o.reactors !== 'number') throw invalidArgType('options.reactors', 'of type number', o.reactors);
    if (!Number.isInteger(o.reactors) || o.reactors < 1 || o.reactors > 256) {
      throw outOfRange('options.reactors', 'an integer >= 1 && <= 256', o.reactors);
    }
    reactors = o.reactors;
  }
  const handler = handlerSpecifier(o.handler);
  let handlerOptions: unknown;
  try {
    handlerOptions = structuredClone(o.handlerOptions);
  } catch (err) {
    throw invalidArgValue('options.handlerOptions', o.handlerOptions, `must be serialisable (${(err as Error).message})`);
  }
  let distribution: Distribution = 'acceptor';
  if (o.distribution !== undefined) {
    if (o.distribution !== 'acceptor' && o.distribution !== 'reuseport') {
      throw invalidArgValue('options.distribution', o.distribution, "must be one of: 'acceptor', 'reuseport'");
    }
    distribution = o.distribution;
  }
  let pinThreads = false;
  if (o.pinThreads !== undefined) {
    if (typeof o.pinThreads !== 'boolean') throw invalidArgType('options.pinThreads', 'of type boolean', o.pinThreads);
    pinThreads = o.pinThreads;
  }
  let channelCapacity = 4096;
  if (o.channelCapacity !== undefined) {
    const c = o.channelCapacity;
    if (typeof c !== 'number') throw invalidArgType('options.channelCapacity', 'of type number', c);
    if (!Number.isInteger(c) || c < 1 || c > 1 << 20 || (c & (c - 1)) !== 0) {
      throw outOfRange('options.channelCapacity', 'a power of two >= 1 && <= 1048576', c);
    }
    channelCapacity = c;
  }
  if (o.onError !== undefined && typeof o.onError !== 'function') {
    throw invalidArgType('options.onError', 'of type function', o.onError);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw invalidArgType('options.signal', 'an instance of AbortSignal', o.signal);
  }
  return { reactors, handler, handlerOptions, distribution, pinThreads, channelCapacity, opts };
}

/** The CPUs this process may run on (Cpus_allowed_list), else 0..n-1. */
export function allowedCpus(): number[] {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const m = /^Cpus_allowed_list:\s*(.+)$/m.exec(status);
    if (m !== null) {
      const cpus: number[] = [];
      for (const part of m[1]!.trim().split(',')) {
        const [a, b] = part.split('-').map(Number);
        if (a === undefined || !Number.isInteger(a)) continue;
        for (let c = a; c <= (b ?? a); c++) cpus.push(c);
      }
      if (cpus.length > 0) return cpus;
    }
  } catch { /* not Linux: fall through */ }
  return Array.from({ length: availableParallelism() }, (_, i) => i);
}
