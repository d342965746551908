// The trap guard: the core as the rest of the TS layer sees it. A trap in any
// export (a bug in the core) must not throw into app code or take the process
// down, so every call is wrapped: the first trap is reported once (onTrap)
// and every later call gets -EIO, an empty event batch or the last stats.
import type { Reactor, ReactorStats } from '../../bridge/backend.ts';
import { EIO } from '../../bridge/consts.ts';

/** A trap inside the core: WebAssembly.RuntimeError (unreachable, out of bounds, ...). */
export function isTrap(err: unknown): boolean {
  return err instanceof WebAssembly.RuntimeError;
}

export interface GuardHooks {
  alive(): boolean;
  /** The core trapped: the engine takes back what it held and stays dead. */
  onTrap(cause: Error): void;
  /** The stats to report once the core is dead (set by onTrap or destroy). */
  final(): ReactorStats | undefined;
}

export function guardReactor(raw: Reactor, g: GuardHooks): Reactor {
  const fail = (err: unknown): void => {
    if (!isTrap(err)) throw err;
    g.onTrap(err as Error);
  };
  const noEvents = new Uint32Array(0);
  const call = <A extends unknown[]>(f: (...a: A) => number) => (...a: A): number => {
    if (!g.alive()) return -EIO;
    try { return f.apply(raw, a); } catch (err) { fail(err); return -EIO; }
  };
  return {
    ...raw,
    tick: (): Uint32Array => {
      if (!g.alive()) return noEvents;
      try { return raw.tick(); } catch (err) { fail(err); return noEvents; }
    },
    submit: call(raw.submit),
    write: call(raw.write),
    shutdown: call(raw.shutdown),
    close: call(raw.close),
    release: call(raw.release),
    sweep: call(raw.sweep),
    pending: (): number => {
      if (!g.alive()) return 0;
      try { return raw.pending(); } catch (err) { fail(err); return 0; }
    },
    stopAccepting: call(raw.stopAccepting),
    stats: () => {
      if (!g.alive()) return g.final() ?? raw.stats();
      try { return raw.stats(); } catch (err) { fail(err); return g.final()!; }
    },
  } as Reactor;
}

/** What a core that trapped before its first stats reports. */
export function zeroStats(): ReactorStats {
  const z = 0n;
  return {
    connectionsOpen: 0, accepted: z, rejected: z, closed: z, buffersKernel: 0, buffersApp: 0,
    buffersReturning: 0, buffersWarm: 0, enobufs: z, staleCqes: z, sends: z, shortSends: z, bytesIn: z, bytesOut: z,
    cqes: z, ticks: z, ringFlags: 0, connectionsPaused: 0, pauses: z, idleTimeouts: z, endTimeouts: z,
    recvBudget: 0, recvReserve: 0, listenerFd: -1,
  };
}
