// Driving the simulated world and the JavaScript event loop together.
//
// `World.run()` is synchronous: a ring wake-up inside it resolves the app's
// promises, but their continuations (the handler's `write`, the engine's
// end-of-turn `submit`) only run once the caller returns to the event loop.
// `runUntil` alternates the two: it runs world events up to the next ring
// wake-up (the moment a real kernel would hand control to JavaScript), then
// yields one event-loop turn (microtasks, then a macrotask queued after the
// engine's own setImmediate), and repeats. Virtual time is never tied to the
// wall clock: the yield only lets already-queued JavaScript run.
import { ZerglingError } from '../backend.ts';
import type { Trace } from './trace.ts';
import type { World } from './world.ts';

export interface RunUntilOptions {
  /** World events this call may run before it rejects with `ERR_SIM_TIMEOUT` (default 10 000 000). */
  maxSteps?: number;
  /** Virtual milliseconds this call may advance before it rejects with `ERR_SIM_TIMEOUT` (default 60 000). */
  maxVirtualMs?: number;
  /** Event-loop turns this call may yield before it rejects with `ERR_SIM_TIMEOUT` (default 1 000 000). */
  maxTurns?: number;
  /**
   * Consecutive turns in which nothing happened (no world event pending, no
   * host call made) after which the run counts as stalled and rejects with
   * `ERR_SIM_STALLED` (default 8). Raise it for an app that needs more
   * promise/setImmediate hops between two host calls.
   */
  idleTurns?: number;
}

export interface RunUntilResult {
  /** World events run by this call. */
  steps: number;
  /** Event-loop turns yielded by this call. */
  turns: number;
  /** Virtual time advanced by this call, ns. */
  virtualNs: number;
}

export type SimDriveCode = 'ERR_SIM_STALLED' | 'ERR_SIM_TIMEOUT';

/**
 * `runUntil` gave up. `ERR_SIM_STALLED`: the world is idle and the app made no
 * host call for `idleTurns` turns, so the condition can never become true.
 * `ERR_SIM_TIMEOUT`: a bound (`maxSteps`, `maxVirtualMs`, `maxTurns`) was hit.
 */
export class SimDriveError extends ZerglingError {
  declare readonly code: SimDriveCode;
  /** World events run by the call that failed. */
  readonly steps: number;
  /** Event-loop turns it yielded. */
  readonly turns: number;
  /** Virtual time it advanced, ns. */
  readonly virtualNs: number;
  constructor(code: SimDriveCode, message: string, r: RunUntilResult) {
    super(code, message);
    this.name = 'SimDriveError';
    this.steps = r.steps;
    this.turns = r.turns;
    this.virtualNs = r.virtualNs;
  }
}

/** What `runUntil` needs from a simulated backend. */
export interface DriveTarget {
  readonly world: World;
  readonly trace: Trace;
  /** Ring wake-ups delivered to JavaScript so far (a counter that only grows). */
  wakes(): number;
}

/**
 * One event-loop turn. setImmediate exists in Node, Bun and Deno and runs
 * after the immediates already queued (the engine's end-of-turn submit); a
 * browser has no setImmediate, and a MessageChannel message is the macrotask
 * that does not wait for a timer clamp there.
 */
function makeTurn(): () => Promise<void> {
  if (typeof setImmediate === 'function') return () => new Promise<void>((resolve) => setImmediate(resolve));
  let waiting: (() => void)[] = [];
  let port: MessagePort | undefined;
  return () => new Promise<void>((resolve) => {
    if (port === undefined) {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        const w = waiting;
        waiting = [];
        for (const r of w) r();
      };
      port = ch.port2;
    }
    waiting.push(resolve);
    port.postMessage(0);
  });
}

let turn: (() => Promise<void>) | undefined;

/** Bounds a user gives are checked before anything runs: a typo must not mean "forever". */
function bound(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !(v >= 0)) {
    throw Object.assign(new RangeError(`The value of "options.${name}" is out of range. It must be >= 0. Received ${String(v)}`),
      { code: 'ERR_OUT_OF_RANGE' });
  }
  return v;
}

/**
 * Runs the world and the event loop until `done()` holds. Resolves with what
 * it took; rejects with a `SimDriveError` (see its codes).
 */
export async function runUntil(t: DriveTarget, done: () => boolean, opts: RunUntilOptions = {}): Promise<RunUntilResult> {
  const maxSteps = bound('maxSteps', opts.maxSteps, 10_000_000);
  const maxVirtualNs = bound('maxVirtualMs', opts.maxVirtualMs, 60_000) * 1e6;
  const maxTurns = bound('maxTurns', opts.maxTurns, 1_000_000);
  const idleTurns = Math.max(1, bound('idleTurns', opts.idleTurns, 8));
  turn ??= makeTurn();
  const w = t.world;
  const steps0 = w.steps, now0 = w.now;
  const deadline = now0 + maxVirtualNs;
  let turns = 0, idle = 0;
  const result = (): RunUntilResult => ({ steps: w.steps - steps0, turns, virtualNs: w.now - now0 });
  const fail = (code: SimDriveCode, why: string): SimDriveError => {
    const r = result();
    return new SimDriveError(code, `sim.runUntil: ${why} (after ${r.steps} world events, ${r.turns} turns, ` +
      `${(r.virtualNs / 1e6).toFixed(3)} virtual ms)`, r);
  };
  for (;;) {
    if (done()) return result();
    // World events up to the next wake-up: JavaScript must react before the
    // world moves on, as it would between two epoll/io_uring waits.
    const wakes0 = t.wakes();
    while (t.wakes() === wakes0) {
      const next = w.nextTime();
      if (next === Infinity) break;
      if (next > deadline) throw fail('ERR_SIM_TIMEOUT', `maxVirtualMs (${maxVirtualNs / 1e6}) reached`);
      if (w.steps - steps0 >= maxSteps) throw fail('ERR_SIM_TIMEOUT', `maxSteps (${maxSteps}) reached`);
      w.step();
      if (done()) return result();
    }
    if (turns >= maxTurns) throw fail('ERR_SIM_TIMEOUT', `maxTurns (${maxTurns}) reached`);
    const calls0 = t.trace.calls;
    turns++;
    await turn();
    if (done()) return result();
    if (w.pending === 0 && t.trace.calls === calls0 && t.wakes() === wakes0) {
      if (++idle >= idleTurns) throw fail('ERR_SIM_STALLED', 'the world is idle and the app made no host call, but the condition is still false');
    } else {
      idle = 0;
    }
  }
}

/** `runUntil` for a promise: resolves with its value once it settles inside the simulation. */
export async function runUntilSettled<T>(t: DriveTarget, p: PromiseLike<T>, opts?: RunUntilOptions): Promise<T> {
  let settled = false;
  let ok = false;
  let value: T | undefined;
  let error: unknown;
  Promise.resolve(p).then(
    (v) => { settled = true; ok = true; value = v; },
    (e: unknown) => { settled = true; error = e; },
  );
  await runUntil(t, () => settled, opts);
  if (!ok) throw error;
  return value as T;
}
