// serve({ reactors, module }): the HTTP server on N reactor threads. The
// cluster imports one handler module in every thread; here that module is
// zergling's own (cluster-handler.ts), which imports the app's `module` and
// serves HTTP on each connection the reactor gets.
import { extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import { invalidArgType, invalidArgValue } from '../errors.ts';
import { listen as listenCluster, type ClusterServer } from '../cluster/index.ts';
import type { HttpLimits } from './conn.ts';
import type { ServeOptions } from './server.ts';

export type HttpClusterServer = ClusterServer;

/** What a reactor thread gets (structured-cloned). */
export interface ClusterHttpOptions {
  module: string;
  moduleOptions: unknown;
  limits: HttpLimits;
}

const EXT = extname(fileURLToPath(import.meta.url)); // '.ts' from source, '.js' when built
const HANDLER = new URL(`./cluster-handler${EXT}`, import.meta.url);

function moduleSpecifier(m: unknown): string {
  if (m instanceof URL) return m.href;
  if (typeof m !== 'string' || m.length === 0) throw invalidArgType('options.module', 'a URL or a module path', m);
  if (isAbsolute(m) || m.startsWith('./') || m.startsWith('../')) return pathToFileURL(resolve(m)).href;
  return m;
}

const OWN = new Set(['fetch', 'handler', 'module', 'moduleOptions', 'reactors', 'onError']);

export async function serveCluster(o: ServeOptions, limits: HttpLimits): Promise<ClusterServer> {
  if (o.fetch !== undefined || o.handler !== undefined) {
    throw invalidArgValue('options.fetch', o.fetch ?? o.handler, 'cannot cross into reactor threads: with reactors, pass options.module');
  }
  if (o.module === undefined) throw invalidArgType('options.module', 'a URL or a module path (needed with reactors)', o.module);
  const handlerOptions: ClusterHttpOptions = { module: moduleSpecifier(o.module), moduleOptions: o.moduleOptions, limits };
  const tcp: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!OWN.has(k) && !(k in limits)) tcp[k] = v;
  return listenCluster({
    ...tcp,
    ...(o.reactors !== undefined ? { reactors: o.reactors } : {}),
    ...(o.onError !== undefined ? { onError: o.onError } : {}),
    handler: HANDLER,
    handlerOptions,
  });
}
