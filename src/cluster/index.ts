// zergling/cluster: one reactor per core.
//
//   // server.ts
//   import { listen } from 'zergling/cluster';
//   const server = await listen({ port: 7000, reactors: 4, handler: new URL('./echo.ts', import.meta.url) });
//   server.on('error', (err) => console.error(`reactor ${err.reactor}:`, err));
//
//   // echo.ts (imported by every reactor thread)
//   import type { ClusterHandler } from 'zergling/cluster';
//   export default (async (conn) => { for await (const b of conn) if (!conn.write(b)) await conn.flush(); }) satisfies ClusterHandler;
export { listen, ClusterServer } from './server.ts';
export type { ClusterEvents, ClusterStats, ReactorState, ReactorStatsEntry } from './server.ts';
export type { ClusterOptions } from './options.ts';
export type { Distribution, ReactorError, ReactorSnapshot } from './protocol.ts';
export type { ReactorInfo } from './reactor-host.ts';
import type { Connection } from '../connection.ts';
import type { ReactorInfo } from './reactor-host.ts';

/**
 * The default export of a handler module: serves one connection. Returning a
 * promise closes the connection once it settles; throwing (or rejecting)
 * destroys the connection and is reported on the cluster's 'error' event.
 */
export type ClusterHandler<O = unknown> = (conn: Connection, options: O, reactor: ReactorInfo) => void | Promise<void>;

/** The optional `setup` export of a handler module: runs once per reactor thread, before its first connection. */
export type ClusterSetup<O = unknown> = (options: O, reactor: ReactorInfo) => void | Promise<void>;
