// serve(): an HTTP/1.1 server on one reactor (listen()), or on N reactor
// threads (the cluster) when `reactors` is given.
import { invalidArgType, invalidArgValue } from '../errors.ts';
import { listen, type AddressInfo, type Server, type ServerStats } from '../server.ts';
import type { ListenOptions } from '../options.ts';
import type { Connection } from '../connection.ts';
import type { FastHandler, HttpCounters } from './conn.ts';
import { HttpEngine, wallClock, type Clock } from './engine.ts';
import { fetchHandler, type FetchHandler } from './fetch.ts';
import { LIMIT_KEYS, resolveLimits, type HttpLimitOptions } from './options.ts';
import { serveCluster, type HttpClusterServer } from './cluster.ts';

/** The socket options are listen()'s (one definition, one set of docs). */
type SocketOptions = Pick<ListenOptions<Connection>,
  'port' | 'host' | 'ipVersion' | 'backlog' | 'reusePort' | 'signal' | 'backend' | 'reactor'>;

export interface ServeOptions extends HttpLimitOptions, SocketOptions {
  /** Web-standard handler: a `Request` in, a `Response` (or a promise of one) out. */
  fetch?: FetchHandler;
  /** The fast path: a zero-copy request view and a response writer; no Web objects. */
  handler?: FastHandler;
  /** Errors of handlers (a throw, a rejection, a bad Response). Default: rethrown asynchronously. */
  onError?: (err: Error) => void;
  /** Reactor threads (the cluster). Needs `module`. */
  reactors?: number;
  /**
   * With `reactors`: the module every reactor thread imports. Its default
   * export is `{ fetch }` or `{ handler }` (an object or a function returning
   * one, called once per thread with `moduleOptions`).
   */
  module?: URL | string;
  /** Passed to the module's default export when it is a function (structured-cloned). */
  moduleOptions?: unknown;
}

export interface HttpStats extends ServerStats {
  http: HttpCounters & { connections: number };
}

export class HttpServer {
  readonly #server: Server;
  readonly #engine: HttpEngine;
  #closing: Promise<void> | undefined;

  /** @internal Use `serve()`. */
  constructor(server: Server, engine: HttpEngine) {
    this.#server = server;
    this.#engine = engine;
  }

  address(): AddressInfo {
    return this.#server.address();
  }

  /** The TCP server underneath (connections, backend). */
  get server(): Server {
    return this.#server;
  }

  stats(): HttpStats {
    const c = this.#engine.counters;
    return {
      ...this.#server.stats(),
      http: { ...c, refused: { ...c.refused }, timeouts: { ...c.timeouts }, connections: this.#engine.conns.size },
    };
  }

  /**
   * Graceful close: stops taking requests, closes idle keep-alive connections
   * now, lets requests in progress finish (their responses say `Connection:
   * close`) until `deadlineMs`, then closes the TCP server (which aborts what
   * is left). Idempotent.
   */
  close(options: { deadlineMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#shutdown(options.deadlineMs ?? 5000);
    return this.#closing;
  }

  async #shutdown(deadlineMs: number): Promise<void> {
    const t0 = Date.now();
    const drained = this.#engine.shutdown();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise<void>((r) => { timer = setTimeout(r, deadlineMs); })]);
    clearTimeout(timer);
    await this.#server.close({ deadlineMs: Math.max(0, deadlineMs - (Date.now() - t0)) });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

const OWN_KEYS = new Set(['fetch', 'handler', 'onError', 'reactors', 'module', 'moduleOptions', ...LIMIT_KEYS]);

function pickHandler(o: ServeOptions, authority: () => string): FastHandler {
  if (o.handler !== undefined && o.fetch !== undefined) {
    throw invalidArgValue('options', o, 'must have either fetch or handler, not both');
  }
  if (o.handler !== undefined) {
    if (typeof o.handler !== 'function') throw invalidArgType('options.handler', 'of type function', o.handler);
    return o.handler;
  }
  if (typeof o.fetch !== 'function') throw invalidArgType('options.fetch', 'of type function', o.fetch);
  return fetchHandler(o.fetch, authority);
}

/**
 * Starts an HTTP/1.1 server. `serve({ port, fetch })` (Web Request/Response)
 * or `serve({ port, handler })` (the fast path). With `reactors` and
 * `module`, the server runs on that many reactor threads.
 */
export function serve(options: ServeOptions & { reactors: number }): Promise<HttpClusterServer>;
export function serve(options: ServeOptions): Promise<HttpServer>;
export async function serve(options: ServeOptions): Promise<HttpServer | HttpClusterServer> {
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  const limits = resolveLimits(options as Record<string, unknown>);
  if (options.reactors !== undefined || options.module !== undefined) return serveCluster(options, limits);
  let addr = '127.0.0.1';
  const handler = pickHandler(options, () => addr);
  const tcp: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) if (!OWN_KEYS.has(k)) tcp[k] = v;
  const onError = options.onError ?? ((err: Error) => { process.nextTick(() => { throw err; }); });
  let engine: HttpEngine | undefined;
  const server = await listen({
    ...tcp,
    onError,
    onConnection: (conn) => engine!.serve(conn),
  });
  const b = server.backend;
  const clock: Clock = b.setTimer !== undefined && b.now !== undefined
    ? { now: () => b.now!(), setTimer: (ms, fn) => b.setTimer!(ms, fn) }
    : wallClock;
  engine = new HttpEngine(limits, handler, clock, onError);
  const a = server.address();
  addr = `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  return new HttpServer(server, engine);
}
