// One reactor thread as the main thread sees it: the Worker running
// worker.ts, its fd channel and doorbell (distribution 'acceptor'), its state,
// and its control messages (ready, failed, error, crash, stats, closed).
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { FdChannel } from './channel.ts';
import {
  reactorError, type ErrorData, type FromWorker, type ReactorError, type ReactorSnapshot, type ToWorker,
  type WorkerInit,
} from './protocol.ts';

export type ReactorState = 'starting' | 'running' | 'closing' | 'closed' | 'crashed';

/** What a thread reports to its cluster (ClusterServer). */
export interface ThreadOwner {
  /** An error for the cluster's 'error' event. */
  report(err: ReactorError): void;
  /** The thread died (crashed, or exited before it was ready): fds queued for it must be closed. */
  reactorDied(t: ReactorThread): void;
}

const WORKER_EXT = extname(fileURLToPath(import.meta.url)); // '.ts' from source, '.js' when built
const WORKER_URL = new URL(`./worker${WORKER_EXT}`, import.meta.url);

/**
 * What `new Worker` runs. Built JS: worker.js itself. From TypeScript source
 * under tsx: Node 20 does not carry `--import` loaders into worker threads
 * (tsx registers its hooks on the main thread only), so a two-line bootstrap
 * registers tsx's ESM hooks in the worker before importing worker.ts.
 */
function workerEntry(): { entry: URL | string; evalCode: boolean } {
  if (WORKER_EXT !== '.ts' || !process.execArgv.some((a) => a.includes('tsx'))) {
    return { entry: WORKER_URL, evalCode: false };
  }
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}); })` +
    '.catch((e) => process.nextTick(() => { throw e; }));';
  return { entry: code, evalCode: true };
}

const STATS_TIMEOUT_MS = 2000;

export class ReactorThread {
  readonly index: number;
  readonly worker: Worker;
  readonly channel: FdChannel | undefined;
  readonly doorbell: MessagePort | undefined;
  readonly cpuAsked: number;
  state: ReactorState = 'starting';
  port = 0;
  cpu: number | null = null;
  handedOff = 0;
  last: ReactorSnapshot | undefined;
  crashError: ErrorData | undefined;
  readonly ready: Promise<void>;
  readonly exited: Promise<number>;
  readonly #stats = new Map<number, (s: ReactorSnapshot | undefined) => void>();
  #statsId = 0;
  #onReady!: () => void;
  #onFailed!: (err: ReactorError) => void;
  readonly #owner: ThreadOwner;

  constructor(owner: ThreadOwner, index: number, init: WorkerInit, channel: FdChannel | undefined,
    doorbell: MessagePort | undefined) {
    this.#owner = owner;
    this.index = index;
    this.channel = channel;
    this.doorbell = doorbell;
    this.cpuAsked = init.cpu;
    this.ready = new Promise<void>((resolve, reject) => { this.#onReady = resolve; this.#onFailed = reject; });
    this.ready.catch(() => { /* listen() reports it */ });
    const workerDoorbell = init.doorbell;
    const { entry, evalCode } = workerEntry();
    this.worker = new Worker(entry, {
      eval: evalCode,
      workerData: init,
      transferList: workerDoorbell !== undefined ? [workerDoorbell] : [],
      name: `zergling-reactor-${index}`,
    });
    this.worker.on('message', (m: FromWorker) => this.#message(m));
    this.worker.on('error', (err) => { this.crashError ??= { name: err.name, message: err.message, stack: err.stack }; });
    this.exited = new Promise<number>((resolve) => {
      this.worker.once('exit', (code) => { this.#exit(code); resolve(code); });
    });
  }

  #message(m: FromWorker): void {
    switch (m.t) {
      case 'ready':
        this.state = 'running';
        this.port = m.port;
        this.cpu = this.cpuAsked >= 0 && m.pinned >= 0 ? this.cpuAsked : null;
        this.#onReady();
        break;
      case 'failed':
        this.#onFailed(reactorError(m.error, this.index));
        break;
      case 'error':
        this.#owner.report(reactorError(m.error, this.index));
        break;
      case 'crash':
        this.crashError = m.error;
        break;
      case 'stats': {
        this.last = m.stats;
        const r = this.#stats.get(m.id);
        this.#stats.delete(m.id);
        r?.(m.stats);
        break;
      }
      case 'closed':
        this.last = m.stats;
        this.state = 'closed';
        break;
    }
  }

  #exit(code: number): void {
    for (const r of this.#stats.values()) r(undefined);
    this.#stats.clear();
    if (this.state === 'starting') {
      // listen() rejects with this; no 'error' event for a reactor that never ran.
      const cause = this.crashError ?? { name: 'Error', message: `reactor thread exited with code ${code} before it was ready` };
      this.#onFailed(reactorError(cause, this.index));
      this.state = 'crashed';
      this.#owner.reactorDied(this);
      return;
    }
    if (this.state === 'closed' || (this.state === 'closing' && code === 0)) {
      this.state = 'closed';
      return;
    }
    this.state = 'crashed';
    this.#owner.reactorDied(this);
    const cause = this.crashError;
    this.#owner.report(reactorError({
      name: 'Error',
      message: `reactor ${this.index} crashed (thread exit code ${code})${cause ? `: ${cause.message}` : ''}`,
      ...(cause?.stack !== undefined ? { stack: cause.stack } : {}),
    }, this.index, 'ERR_ZERGLING_REACTOR_CRASHED'));
  }

  post(m: ToWorker): void {
    if (this.state === 'running' || this.state === 'closing') this.worker.postMessage(m);
  }

  stats(): Promise<ReactorSnapshot | undefined> {
    if (this.state !== 'running') return Promise.resolve(this.last);
    const id = ++this.#statsId;
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.#stats.delete(id); resolve(this.last); }, STATS_TIMEOUT_MS);
      this.#stats.set(id, (s) => { clearTimeout(t); resolve(s ?? this.last); });
      this.post({ t: 'stats', id });
    });
  }
}
