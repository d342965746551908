// The lifecycle shared by Server and each cluster reactor, written once:
// running the application's connection handler (a sync throw or a rejected
// promise destroys that connection and is reported; a settled promise closes
// it gracefully), the close deadline, and the end of an engine's life.
import type { Connection } from './connection.ts';
import type { Engine } from './engine.ts';
import { codes, invalidArgType, outOfRange } from './errors.ts';

/** Connection errors that are the peer's doing, not the handler's: not reported. */
const IGNORABLE = new Set(['ECONNRESET', 'EPIPE', 'ENOTCONN', 'ECANCELED', 'ETIMEDOUT',
  codes.STREAM_DESTROYED, codes.CHUNK_RELEASED]);

export function runHandler(conn: Connection, call: () => void | Promise<void>, report: (err: Error) => void): void {
  const failed = (err: unknown): void => {
    void conn.destroy();
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && IGNORABLE.has(code)) return;
    report(err instanceof Error ? err : new Error(String(err)));
  };
  let r: void | Promise<void>;
  try {
    r = call();
  } catch (err) {
    failed(err);
    return;
  }
  if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
    (r as Promise<void>).then(() => { void conn.close(); }, failed);
  }
}

/** Validates `close({ deadlineMs })` (default 5000 ms). */
export function closeDeadline(options: { deadlineMs?: number }): number {
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  const deadline = options.deadlineMs ?? 5000;
  if (typeof deadline !== 'number') throw invalidArgType('options.deadlineMs', 'of type number', deadline);
  if (!(deadline >= 0) || deadline > 0x7fffffff) throw outOfRange('options.deadlineMs', '>= 0 && <= 2147483647', deadline);
  return deadline;
}

/** True if `p` settled within `ms`; never leaves a timer behind. */
export function within(p: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    p.then(() => { clearTimeout(t); resolve(true); });
  });
}

/**
 * Closes every connection gracefully, aborts those still open after
 * `deadlineMs`, then frees the ring, buffer ring and slabs. The caller has
 * stopped accepting already.
 */
export async function closeEngine(e: Engine, deadlineMs: number): Promise<void> {
  for (const c of e.connections()) void c.close();
  if (!(await within(e.whenAllClosed(), deadlineMs))) {
    for (const c of e.connections()) void c.destroy();
    await within(e.whenAllClosed(), 2000);
  }
  // Let the core finish closing the listener (its accept cancel completes in a tick).
  await new Promise<void>((resolve) => setImmediate(resolve));
  e.destroy();
}
