// A cluster's counters: one entry per reactor (as its thread last reported)
// and their field-wise sums.
import type { Distribution, ReactorSnapshot } from './protocol.ts';
import type { ReactorState } from './thread.ts';

/** One reactor's counters, as last reported by its thread. */
export interface ReactorStatsEntry extends ReactorSnapshot {
  index: number;
  state: ReactorState;
  /** The CPU the thread was pinned to, or null (not asked, or refused). */
  cpu: number | null;
  /** Fds the acceptor routed to this reactor. */
  handedOff: number;
}

export interface ClusterStats extends ReactorSnapshot {
  reactors: number;
  distribution: Distribution;
  /** Descriptors owned by zergling in this process (all threads): 0 after close(). */
  fds: number;
  /** The acceptor (distribution 'acceptor'), else null. */
  acceptor: {
    listening: boolean;
    /** Connections accepted and handed to a reactor. */
    accepted: number;
    /** Accepted but closed at once: no reactor could take them (all channels full or all reactors gone). */
    rejected: number;
    /** Doorbell messages sent: one per reactor going from idle to busy, not one per connection. */
    doorbells: number;
    listenerErrors: number;
  } | null;
  /** Per reactor, in index order. */
  perReactor: ReactorStatsEntry[];
}

export function emptySnapshot(): ReactorSnapshot {
  return {
    listening: false, connections: 0, reactorConnections: 0, accepted: 0, rejected: 0, closed: 0,
    buffers: { total: 0, kernel: 0, app: 0, returning: 0, warm: 0 }, heldChunks: 0,
    budget: { perConnection: 0, reserve: 0, paused: 0, pauses: 0 }, timeouts: { idle: 0, end: 0 },
    writeSlab: { bytes: 0, blocks: 0, blocksInUse: 0, pendingRanges: 0 }, pinnedBuffers: 0,
    listenerErrors: 0, enobufs: 0, staleCqes: 0, sends: 0, shortSends: 0, bytesIn: 0, bytesOut: 0,
    cqes: 0, ticks: 0, submits: 0, ringFlags: 0, adopted: 0, adoptFailed: 0,
  };
}

/** Field-wise sum (booleans: any; ringFlags: the union). */
export function sum(list: ReactorSnapshot[]): ReactorSnapshot {
  const out = emptySnapshot();
  const add = (dst: Record<string, unknown>, src: Record<string, unknown>, key: string): void => {
    const v = src[key];
    if (typeof v === 'number') dst[key] = key === 'ringFlags' ? (dst[key] as number) | v : (dst[key] as number) + v;
    else if (typeof v === 'boolean') dst[key] = (dst[key] as boolean) || v;
    else if (v !== null && typeof v === 'object') {
      for (const k of Object.keys(v)) add(dst[key] as Record<string, unknown>, v as Record<string, unknown>, k);
    }
  };
  for (const s of list) for (const k of Object.keys(s)) add(out as unknown as Record<string, unknown>, s as unknown as Record<string, unknown>, k);
  return out;
}
