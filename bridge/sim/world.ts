// The simulated world: one virtual clock, one event queue, one PRNG, the
// fault knobs and the list of model violations. There is no wall-clock time
// anywhere: time moves only when the next event is taken from the queue (or a
// blocking host call waits with a timeout).
//
// Two kinds of events: `world` events (network, clients, kernel progress) and
// `app` events (ring wake-ups that call back into JavaScript, and through it
// into Wasm). A blocking host call runs world events only, so the guest is
// never re-entered while it is inside an import.
import { Prng } from './prng.ts';
import { Trace } from './trace.ts';

export interface SimFaults {
  /** Probability that a send transmits fewer bytes than it could (short write). */
  shortSend: number;
  /** Probability that a recv completion carries fewer bytes than are queued. */
  partialRead: number;
  /** Probability that the network splits a client write into several segments. */
  segmentSplit: number;
  /** Probability that an SQE issued by submit goes async (poll-armed) instead of completing inline. */
  asyncIssue: number;
  /** Probability that a final CQE is posted after a delay (the request is "completing"). */
  completionDelay: number;
  /** Probability that a cancelled request's -ECANCELED CQE comes after the cancel's own CQE. */
  cancelLate: number;
  /** Probability that a connection reset while queued for accept yields -ECONNABORTED. */
  acceptAbort: number;
  /** Kernel progress delay after a wake-up, ns (uniform in [min, max]). */
  kernelDelay: readonly [number, number];
  /** One-way network latency, ns. */
  latency: readonly [number, number];
  /** Ring wake-up (eventfd to JS callback) delay, ns. */
  wakeDelay: readonly [number, number];
}

export const DEFAULT_FAULTS: SimFaults = Object.freeze({
  shortSend: 0,
  partialRead: 0,
  segmentSplit: 0,
  asyncIssue: 0,
  completionDelay: 0,
  cancelLate: 0,
  acceptAbort: 0,
  kernelDelay: [1_000, 1_000] as const,
  latency: [10_000, 10_000] as const,
  wakeDelay: [4_000, 4_000] as const,
});

export interface Violation {
  time: number;
  message: string;
}

type EventFn = () => void;

/** A binary min-heap of events ordered by (time, seq). */
class EventHeap {
  private t: number[] = [];
  private s: number[] = [];
  private f: EventFn[] = [];

  get size(): number {
    return this.t.length;
  }
  peekTime(): number {
    return this.t.length === 0 ? Infinity : this.t[0]!;
  }
  peekSeq(): number {
    return this.s[0]!;
  }
  push(time: number, seq: number, fn: EventFn): void {
    const t = this.t, s = this.s, f = this.f;
    let i = t.length;
    t.push(time); s.push(seq); f.push(fn);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (t[p]! < time || (t[p] === time && s[p]! < seq)) break;
      t[i] = t[p]!; s[i] = s[p]!; f[i] = f[p]!;
      i = p;
    }
    t[i] = time; s[i] = seq; f[i] = fn;
  }
  pop(): { time: number; fn: EventFn } {
    const t = this.t, s = this.s, f = this.f;
    const time = t[0]!, fn = f[0]!;
    const lt = t.pop()!, ls = s.pop()!, lf = f.pop()!;
    const n = t.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        if (r < n && (t[r]! < t[l]! || (t[r] === t[l] && s[r]! < s[l]!))) c = r;
        if (lt < t[c]! || (lt === t[c] && ls < s[c]!)) break;
        t[i] = t[c]!; s[i] = s[c]!; f[i] = f[c]!;
        i = c;
      }
      t[i] = lt; s[i] = ls; f[i] = lf;
    }
    return { time, fn };
  }
}

export class World {
  /** Virtual time, ns. */
  now = 0;
  readonly rng: Prng;
  readonly faults: SimFaults;
  readonly trace: Trace;
  readonly violations: Violation[] = [];
  /** Events executed so far. */
  steps = 0;
  private seq = 0;
  private readonly worldQ = new EventHeap();
  private readonly appQ = new EventHeap();

  constructor(seed: number, faults: Partial<SimFaults> = {}, trace = new Trace()) {
    this.rng = new Prng(seed);
    this.faults = { ...DEFAULT_FAULTS, ...faults };
    this.trace = trace;
    trace.clock = () => this.now;
  }

  /** True when readable trace lines are wanted (build note strings only then). */
  get tracing(): boolean {
    return this.trace.sink !== undefined;
  }

  /** Schedules a world event `delay` ns from now. */
  after(delay: number, fn: EventFn): void {
    this.worldQ.push(this.now + Math.max(0, delay), this.seq++, fn);
  }

  /** Schedules an app event (one that may call into the guest). */
  appAfter(delay: number, fn: EventFn): void {
    this.appQ.push(this.now + Math.max(0, delay), this.seq++, fn);
  }

  /** Uniform delay from a [min, max] range. */
  delay(range: readonly [number, number]): number {
    return range[0] === range[1] ? range[0] : this.rng.int(range[0], range[1]);
  }

  get pending(): number {
    return this.worldQ.size + this.appQ.size;
  }

  /** Time of the next event of either kind (Infinity when idle). */
  nextTime(): number {
    return Math.min(this.worldQ.peekTime(), this.appQ.peekTime());
  }

  /** Runs the next event of either kind. False when nothing is left. */
  step(): boolean {
    const wt = this.worldQ.peekTime();
    const at = this.appQ.peekTime();
    if (wt === Infinity && at === Infinity) return false;
    const useWorld = wt < at || (wt === at && this.worldQ.peekSeq() < this.appQ.peekSeq());
    const ev = useWorld ? this.worldQ.pop() : this.appQ.pop();
    if (ev.time > this.now) this.now = ev.time;
    this.steps++;
    ev.fn();
    return true;
  }

  /**
   * Runs world events (never app events) until `done()` holds or the next
   * event lies beyond `deadline`. Returns whether `done()` held. Used by the
   * blocking host calls; time advances to the deadline when it passes.
   */
  runWorldUntil(done: () => boolean, deadline = Infinity): boolean {
    for (;;) {
      if (done()) return true;
      const wt = this.worldQ.peekTime();
      if (wt === Infinity || wt > deadline) {
        if (deadline !== Infinity && deadline > this.now) this.now = deadline;
        return done();
      }
      const ev = this.worldQ.pop();
      if (ev.time > this.now) this.now = ev.time;
      this.steps++;
      ev.fn();
    }
  }

  /** Runs events (both kinds) until idle, `until()` holds, or `maxSteps` ran. True when idle or done. */
  run(maxSteps = 10_000_000, until?: () => boolean): boolean {
    for (let i = 0; i < maxSteps; i++) {
      if (until !== undefined && until()) return true;
      if (!this.step()) return true;
    }
    return until !== undefined ? until() : this.pending === 0;
  }

  /** Records something the guest did that the real kernel would punish silently. */
  violation(message: string): void {
    this.violations.push({ time: this.now, message });
    this.trace.note(`VIOLATION: ${message}`);
  }
}
