// Messages between the cluster's main thread and its reactor workers. The hot
// path (fds) does not use them: fds go through FdChannel, and only its
// doorbell is a message (on a port of its own).
import type { MessagePort } from 'node:worker_threads';
import type { ResolvedOptions } from '../options.ts';
import type { ServerStats } from '../server.ts';

export type Distribution = 'acceptor' | 'reuseport';

/** `workerData` of a reactor thread. */
export interface WorkerInit {
  index: number;
  reactors: number;
  distribution: Distribution;
  /** Module specifier of the handler (a file: URL or a bare specifier). */
  handler: string;
  handlerOptions: unknown;
  opts: ResolvedOptions;
  /** reuseport: the port to bind (0 for the first reactor picks one). */
  port: number;
  /** CPU to pin the reactor thread to, or -1. */
  cpu: number;
  /** acceptor: the fd channel and its doorbell. */
  channel?: SharedArrayBuffer;
  doorbell?: MessagePort;
}

/** An Error as data (structured clone drops `code` and other own fields). */
export interface ErrorData {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

export type ToWorker =
  | { t: 'stats'; id: number }
  | { t: 'close'; deadlineMs: number };

export type FromWorker =
  | { t: 'ready'; port: number; pinned: number }
  | { t: 'failed'; error: ErrorData }
  | { t: 'error'; error: ErrorData }
  | { t: 'crash'; error: ErrorData }
  | { t: 'stats'; id: number; stats: ReactorSnapshot }
  | { t: 'closed'; stats: ReactorSnapshot };

/** One reactor's counters: its Server-style stats, less the process-wide fd count. */
export type ReactorSnapshot = Omit<ServerStats, 'fds'> & {
  /** Fds adopted from the acceptor (acceptor distribution). */
  adopted: number;
  /** Fds from the acceptor that could not be adopted (closed). */
  adoptFailed: number;
};

export function errorData(err: unknown): ErrorData {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message,
      ...(err.stack !== undefined ? { stack: err.stack } : {}),
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
  return { name: 'Error', message: String(err) };
}

/** An error reported by (or about) one reactor of a cluster. */
export interface ReactorError extends Error {
  /** Index of the reactor (0..reactors-1), or -1 for the acceptor (an accept error). */
  reactor: number;
  code?: string;
}

export function reactorError(d: ErrorData, reactor: number, code?: string): ReactorError {
  const err = new Error(d.message) as ReactorError;
  err.name = d.name;
  if (d.stack !== undefined) err.stack = d.stack;
  const c = code ?? d.code;
  if (c !== undefined) err.code = c;
  err.reactor = reactor;
  return err;
}
