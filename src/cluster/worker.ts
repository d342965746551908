// A reactor thread: its own native backend (ring and slab handles are
// per-thread), optionally pinned to a CPU, the handler module imported here,
// one ReactorHost. Reports to the main thread with small control messages;
// fds from the acceptor arrive through the shared FdChannel.
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { ZerglingError } from '../../bridge/backend.ts';
import { codes } from '../errors.ts';
import { FdChannel } from './channel.ts';
import { errorData, type FromWorker, type ToWorker, type WorkerInit } from './protocol.ts';
import { ReactorHost, type Handler, type ReactorInfo } from './reactor-host.ts';

const init = workerData as WorkerInit;
const control = parentPort!;
let host: ReactorHost | undefined;
let closing = false;

function post(m: FromWorker): void {
  control.postMessage(m);
}

// An exception nothing caught (a handler's stray timer, a rejected promise no
// one awaited) ends this reactor, not the process: report it, close every
// connection and the listener so no fd outlives the thread, and exit.
function crash(err: unknown): void {
  try {
    post({ t: 'crash', error: errorData(err) });
  } finally {
    try { host?.destroyNow(); } catch { /* the core may be what failed */ }
    process.exit(1);
  }
}
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

async function main(): Promise<void> {
  const native = await import('../../bridge/native.ts');
  native.checkIoUring();
  const backend = native.createNativeBackend();
  const pinned = init.cpu >= 0 ? backend.pinThreadToCpu(init.cpu) : 0;

  const mod = (await import(init.handler)) as { default?: unknown; setup?: unknown };
  const handler = mod.default;
  if (typeof handler !== 'function') {
    throw new ZerglingError(codes.INVALID_ARG_TYPE,
      `the handler module ${init.handler} must export a default function (conn, options, reactor) => ...`);
  }
  const info: ReactorInfo = Object.freeze({ index: init.index, reactors: init.reactors });
  if (typeof mod.setup === 'function') await (mod.setup as (o: unknown, r: ReactorInfo) => unknown)(init.handlerOptions, info);

  const h = new ReactorHost(backend, init.opts,
    init.distribution === 'acceptor' ? { kind: 'adopt' } : { kind: 'reuseport', port: init.port },
    handler as Handler, init.handlerOptions, info,
    (err) => post({ t: 'error', error: errorData(err) }));
  host = h;

  let doorbell: MessagePort | undefined;
  let channel: FdChannel | undefined;
  const adopt = (fd: number): void => h.adopt(fd);
  const drain = (): void => {
    if (channel!.drain(adopt) > 0) h.flush();
  };
  if (init.distribution === 'acceptor') {
    channel = new FdChannel(init.channel!);
    doorbell = init.doorbell!;
    doorbell.on('message', drain);
    doorbell.unref(); // the reactor's ring watch keeps the thread alive, not the doorbell
  }

  control.on('message', (m: ToWorker) => {
    if (m.t === 'stats') {
      post({ t: 'stats', id: m.id, stats: h.stats() });
    } else if (m.t === 'close' && !closing) {
      closing = true;
      // The acceptor has stopped: what is still queued is handed in now, and
      // closed with the rest (adopt() closes fds once closing has begun).
      const done = h.close(m.deadlineMs);
      if (channel !== undefined) drain();
      done.then(() => {
        if (channel !== undefined) drain(); // a doorbell that raced the close
        doorbell?.close();
        post({ t: 'closed', stats: h.stats() });
        // Ends the thread even if the handler module left timers or sockets
        // of its own behind (messages posted before exit are delivered).
        process.exit(0);
      }, crash);
    }
  });
  post({ t: 'ready', port: h.port, pinned });
  if (channel !== undefined) drain(); // fds pushed before the doorbell listener existed
}

main().catch((err: unknown) => {
  post({ t: 'failed', error: errorData(err) });
  try { host?.destroyNow(); } catch { /* nothing more to free */ }
  process.exit(1);
});
