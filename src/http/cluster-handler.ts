// The cluster handler module of serve({ reactors, module }), imported in every
// reactor thread: imports the app's module once per thread and serves HTTP on
// each connection. The app's module default-exports `{ fetch }` or
// `{ handler }`, or a function of (moduleOptions, reactor) returning one.
import type { Connection } from '../connection.ts';
import type { ReactorInfo } from '../cluster/reactor-host.ts';
import { ZerglingError, codes } from '../errors.ts';
import type { ClusterHttpOptions } from './cluster.ts';
import type { FastHandler } from './conn.ts';
import { HttpEngine, wallClock } from './engine.ts';
import { fetchHandler, type FetchHandler } from './fetch.ts';

/** What the app's module exports as default. */
export interface ServeModule {
  fetch?: FetchHandler;
  handler?: FastHandler;
}

let engine: HttpEngine | undefined;

export async function setup(options: ClusterHttpOptions, _reactor: ReactorInfo): Promise<void> {
  const mod = (await import(options.module)) as { default?: unknown };
  let def = mod.default;
  if (typeof def === 'function') def = await (def as (o: unknown, r: ReactorInfo) => unknown)(options.moduleOptions, _reactor);
  const m = def as ServeModule | undefined;
  let handler: FastHandler;
  if (m !== undefined && typeof m.handler === 'function') handler = m.handler;
  else if (m !== undefined && typeof m.fetch === 'function') handler = fetchHandler(m.fetch, () => 'localhost');
  else throw new ZerglingError(codes.INVALID_ARG_TYPE, `${options.module} must export default { fetch } or { handler }`);
  // Handler errors go to the cluster's 'error' event: rethrown from the connection's promise.
  engine = new HttpEngine(options.limits, handler, wallClock, (err) => { throw err; });
}

export default function serveConnection(conn: Connection): Promise<void> | undefined {
  return engine!.serve(conn);
}
