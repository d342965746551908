// Test handler: echo, except in the reactors named by the options:
//   throwIn: its handler throws synchronously on every connection,
//   rejectIn: its handler rejects after the first chunk,
//   crashIn: the first connection schedules an exception nothing catches
//            (the reactor thread crashes),
//   blockIn: a chunk starting with "block" busy-waits its thread for 600 ms,
//   leaveTimer: setup() starts an interval it never clears.
import type { ClusterHandler, ClusterSetup } from '../../../src/cluster/index.ts';

export interface FaultyOptions {
  throwIn?: number;
  rejectIn?: number;
  crashIn?: number;
  blockIn?: number;
  leaveTimer?: boolean;
}

let setupRan = false;
export const setup: ClusterSetup<FaultyOptions> = (opts) => {
  setupRan = true;
  if (opts.leaveTimer) setInterval(() => {}, 1000);
};

const handler: ClusterHandler<FaultyOptions> = (conn, opts, reactor) => {
  if (!setupRan) throw new Error('setup() did not run before the first connection');
  if (reactor.index === opts.throwIn) throw new Error(`handler threw in reactor ${reactor.index}`);
  if (reactor.index === opts.crashIn) {
    setTimeout(() => { throw new Error(`uncaught in reactor ${reactor.index}`); }, 1);
  }
  return (async () => {
    for await (const bytes of conn) {
      if (reactor.index === opts.rejectIn) throw Object.assign(new Error(`rejected in reactor ${reactor.index}`), { code: 'E_TEST' });
      if (reactor.index === opts.blockIn && bytes[0] === 0x62 && Buffer.from(bytes).toString().startsWith('block')) {
        const end = Date.now() + 600;
        while (Date.now() < end) { /* a handler hogging its thread */ }
      }
      if (!conn.write(bytes)) await conn.flush();
    }
  })();
};
export default handler;
