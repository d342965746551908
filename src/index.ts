// zergling: an io_uring TCP server for Node.js whose reactor is WebAssembly.
//
//   import { listen } from 'zergling';
//   const server = await listen({ port: 7000 });
//   for await (const conn of server) {
//     (async () => { for await (const bytes of conn) conn.write(bytes); await conn.close(); })();
//   }
export { listen, Server } from './server.ts';
export type { AddressInfo, CloseOptions, ConnectionHandler, ServerStats } from './server.ts';
export { Connection, PIN_THRESHOLD } from './connection.ts';
export type { ConnectionState } from './connection.ts';
export { Chunk } from './chunk.ts';
export { ConnectionDuplex } from './adapters.ts';
export type { WebStreams } from './adapters.ts';
export { RingFlags } from './options.ts';
export type { IpVersion, ListenOptions, ReactorOptions } from './options.ts';
export { codes, ZerglingError, ZerglingRangeError, ZerglingTypeError } from './errors.ts';
export type { SocketAddress } from './addr.ts';
export type { Backend } from '../bridge/backend.ts';
export { listen as listenCluster, ClusterServer } from './cluster/index.ts';
export type { ClusterOptions, ClusterHandler, ClusterStats, ReactorError } from './cluster/index.ts';
