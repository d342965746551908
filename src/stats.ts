// The counters a reactor reports: the core's stats plus the JS layer's, in one
// shape shared by Server.stats() and each cluster reactor's snapshot.
import type { Engine } from './engine.ts';

export interface ServerStats {
  /** Whether the listener still accepts. */
  listening: boolean;
  /** Connections open (JS side: opened and not yet reported closed). */
  connections: number;
  /** Connections the core has open (should equal `connections`). */
  reactorConnections: number;
  accepted: number;
  /** Accepted beyond maxConnections, closed at once. */
  rejected: number;
  closed: number;
  buffers: {
    /** Buffers in the provided-buffer ring. */
    total: number;
    /** With the kernel, ready to receive. */
    kernel: number;
    /** Held by the app (unreleased chunks, or queued for a zero-copy send). */
    app: number;
    /** Released and not yet published back to the kernel, or never needed yet (cold: untouched memory). */
    returning: number;
    /** The kernel's ring holds at most this many: it starts at 64 and doubles when the kernel runs low, so memory a light load never needs is never touched. */
    warm: number;
  };
  /** Receive budgets (reactor options recvBudget / recvReserve). */
  budget: {
    /** Buffers one connection may hold before its receiving pauses. */
    perConnection: number;
    /** Buffers kept for connections that hold none. */
    reserve: number;
    /** Connections whose receiving is paused now (their peers are pushed back by TCP). */
    paused: number;
    /** Times a connection was paused. */
    pauses: number;
  };
  /** Connections closed by idleTimeoutMs / endTimeoutMs. */
  timeouts: { idle: number; end: number };
  /** Chunks delivered to the app and not released. */
  heldChunks: number;
  writeSlab: {
    bytes: number;
    blocks: number;
    blocksInUse: number;
    /** Write ranges copied into the slab and not yet sent. */
    pendingRanges: number;
  };
  /** Caller buffers currently lent to the kernel. */
  pinnedBuffers: number;
  /** Accept failures reported by the core (the accept was re-armed unless `listening` went false). */
  listenerErrors: number;
  /** Descriptors the reactor owns (listener + connections): 0 after close(). */
  fds: number;
  enobufs: number;
  staleCqes: number;
  sends: number;
  shortSends: number;
  bytesIn: number;
  bytesOut: number;
  cqes: number;
  /** reactor ticks (one per ring wake-up or per extra batch). */
  ticks: number;
  /** reactor.submit() calls from JS: at most one per event-loop turn. */
  submits: number;
  /** IORING_SETUP_* flags the kernel accepted. */
  ringFlags: number;
}

/** One engine's counters (everything but the process-wide fd count). */
export function engineStats(e: Engine, listening: boolean, listenerErrors: number): Omit<ServerStats, 'fds'> {
  const s = e.reactorStats();
  const n = (v: bigint | undefined): number => (v === undefined ? 0 : Number(v));
  return {
    listening,
    connections: e.openConnections,
    reactorConnections: s?.connectionsOpen ?? 0,
    accepted: n(s?.accepted),
    rejected: n(s?.rejected),
    closed: n(s?.closed),
    buffers: {
      total: e.bufferCount,
      kernel: s?.buffersKernel ?? 0,
      app: s?.buffersApp ?? 0,
      returning: s?.buffersReturning ?? 0,
      warm: s?.buffersWarm ?? 0,
    },
    budget: {
      perConnection: s?.recvBudget ?? 0,
      reserve: s?.recvReserve ?? 0,
      paused: s?.connectionsPaused ?? 0,
      pauses: n(s?.pauses),
    },
    timeouts: { idle: n(s?.idleTimeouts), end: n(s?.endTimeouts) },
    heldChunks: e.heldChunks,
    writeSlab: {
      bytes: e.writeSlab.bytes.byteLength,
      blocks: e.writeSlab.blocks,
      blocksInUse: e.writeSlab.blocksInUse,
      pendingRanges: e.writeSlab.outstanding,
    },
    pinnedBuffers: e.pinnedSlabs,
    listenerErrors,
    enobufs: n(s?.enobufs),
    staleCqes: n(s?.staleCqes),
    sends: n(s?.sends),
    shortSends: n(s?.shortSends),
    bytesIn: n(s?.bytesIn),
    bytesOut: n(s?.bytesOut),
    cqes: n(s?.cqes),
    ticks: n(s?.ticks),
    submits: e.counters.submits,
    ringFlags: s?.ringFlags ?? 0,
  };
}
