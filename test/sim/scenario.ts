// One random scenario per seed: a reactor configuration, fault knobs, and a
// crowd of clients (echo, full close, early close, reset, silent, slow
// readers, large transfers), all drawn from the seed; the real Wasm core runs
// the echo driver; afterwards every invariant is checked. The same seed
// replays the same run (and the same trace hash).
import { loadReactor, loadReactorVariant } from '../../bridge/index.ts';
import type { Reactor, ReactorConfig } from '../../bridge/backend.ts';
import { createSimBackend } from '../../bridge/sim/index.ts';
import type { SimBackend, SimClient, SimFaults } from '../../bridge/sim/index.ts';
import type { Prng } from '../../bridge/sim/prng.ts';
import { EchoDriver } from './echo-driver.ts';
import type { DriverPolicy } from './echo-driver.ts';

export type ClientKind = 'echo' | 'close-after-echo' | 'early-close' | 'reset' | 'silent';

export interface ClientPlan {
  id: number;
  kind: ClientKind;
  size: number;
  startNs: number;
  family: 4 | 6;
  chunk: [number, number];
  gapNs: [number, number];
  /** early-close / reset: after this many bytes were written (or at once when 0). */
  cutAt: number;
  slow: boolean;
  rcvCap: number;
  silentNs: number;
}

export interface ScenarioPlan {
  seed: number;
  config: ReactorConfig;
  listenFamily: number;
  faults: Partial<SimFaults>;
  refuseSetupFlags: number;
  /** RLIMIT_NOFILE of the simulated process (accept beyond it is -EMFILE). */
  fdLimit: number;
  serverWindow: [number, number];
  policy: DriverPolicy;
  pressure: { atNs: number; forNs: number; cap: number }[];
  clients: ClientPlan[];
}

export interface ScenarioResult {
  seed: number;
  ok: boolean;
  failures: string[];
  hash: string;
  calls: number;
  steps: number;
  virtualNs: number;
  plan: ScenarioPlan;
  summary: string;
}

export interface RunOptions {
  variant?: 'broken';
  trace?: (line: string) => void;
  /** Event budget per scenario (a livelock guard). */
  maxSteps?: number;
  /** Loads the reactor under test (default: the real core, or the broken variant). */
  load?: (sim: SimBackend) => Reactor | Promise<Reactor>;
}

const COOP = 0x100, SINGLE = 0x1000, DEFER = 0x2000;

export function planScenario(seed: number, rng: Prng): ScenarioPlan {
  const incremental = rng.chance(0.3);
  const config: ReactorConfig = {
    ringEntries: rng.pick([2, 4, 8, 16, 32, 64]),
    ringFlags: rng.pick([0, COOP, SINGLE | DEFER, SINGLE | DEFER | COOP, SINGLE]),
    sqThreadCpu: -1,
    sqThreadIdleMs: 0,
    recvBufferSize: rng.pick([16, 64, 256, 1024, 4096]),
    bufferRingEntries: rng.pick([1, 2, 4, 8, 16, 64]),
    cqeBatch: rng.pick([1, 3, 8, 32, 256]),
    maxConnections: rng.chance(0.25) ? rng.int(1, 6) : 64,
    incremental,
    bufGroup: rng.int(0, 7),
    recvBudget: 0, recvReserve: 0, idleTimeoutMs: 0, endTimeoutMs: 0, maxFd: 65536, sendRanges: 65536,
  };
  const listenFamily = rng.pick([4, 4, 6, 0]);
  const heavy = rng.chance(0.5);
  const faults: Partial<SimFaults> = {
    shortSend: rng.pick([0, 0.05, 0.3, 0.7]),
    partialRead: rng.pick([0, 0.1, 0.5]),
    segmentSplit: rng.pick([0, 0.3, 0.8]),
    asyncIssue: rng.pick([0, 0.2, 0.6]),
    completionDelay: rng.pick([0, 0.05, 0.3]),
    cancelLate: rng.pick([0, 0.5, 1]),
    acceptAbort: rng.pick([0, 0.5]),
    kernelDelay: heavy ? [100, 50_000] : [500, 5_000],
    latency: rng.pick([[1_000, 5_000], [5_000, 100_000], [20_000, 20_000]] as [number, number][]),
    wakeDelay: rng.pick([[1_000, 10_000], [2_000, 200_000]] as [number, number][]),
  };
  const refuseSetupFlags = rng.chance(0.2) ? DEFER : 0;
  // stdio 0-2, ring fd and eventfd, listener: the first accepted fd is 6
  const fdLimit = rng.chance(0.05) ? 6 + rng.int(1, 4) : 1024;
  const serverWindow: [number, number] = rng.pick([[65536, 262144], [512, 4096], [64, 1024]] as [number, number][]);
  const policy: DriverPolicy = {
    releaseAfterSent: rng.chance(0.5),
    serverClose: rng.pick([0, 0, 0.01, 0.05, 0.2]),
    serverAbort: rng.pick([0, 0.5, 1]),
    shutdownOnEof: rng.chance(0.5),
  };
  const pressure: ScenarioPlan['pressure'] = [];
  if (rng.chance(0.3)) {
    const n = rng.int(1, 4);
    for (let i = 0; i < n; i++) pressure.push({ atNs: rng.int(0, 3_000_000), forNs: rng.int(10_000, 500_000), cap: rng.int(1, 3) });
  }
  const nClients = rng.chance(0.1) ? rng.int(25, 48) : rng.int(1, 16);
  const clients: ClientPlan[] = [];
  for (let id = 0; id < nClients; id++) {
    const kind = rng.pick<ClientKind>(['echo', 'echo', 'echo', 'echo', 'close-after-echo', 'early-close', 'reset', 'silent']);
    const large = rng.chance(0.02);
    const size = kind === 'silent' ? 0 : large ? rng.int(256 * 1024, 1 << 20) : rng.skewed(1, 40_000, 3);
    const slow = rng.chance(0.2);
    const family: 4 | 6 = listenFamily === 4 ? 4 : listenFamily === 6 ? 6 : rng.pick<4 | 6>([4, 6]);
    const chunkMax = rng.pick([16, 512, 4096, 65536]);
    clients.push({
      id,
      kind,
      size,
      startNs: rng.int(0, 2_000_000),
      family,
      chunk: [1, chunkMax],
      gapNs: rng.pick([[0, 0], [0, 20_000], [1_000, 200_000]] as [number, number][]),
      cutAt: kind === 'early-close' || kind === 'reset' ? rng.int(0, size) : 0,
      slow,
      rcvCap: slow ? rng.int(1, 2048) : 65536,
      silentNs: rng.int(1_000, 3_000_000),
    });
  }
  return { seed, config, listenFamily, faults, refuseSetupFlags, fdLimit, serverWindow, policy, pressure, clients };
}

/** Runs one seed. Never throws for a failing core: failures are in the result. */
export async function runScenario(seed: number, opts: RunOptions = {}): Promise<ScenarioResult> {
  // Plan from a PRNG of its own seed stream so the plan does not depend on the faults it chooses.
  const planSim = createSimBackend({ seed: seed ^ 0x5eed5eed });
  const plan = planScenario(seed, planSim.world.rng);
  const sim = createSimBackend({
    seed,
    faults: plan.faults,
    refuseSetupFlags: plan.refuseSetupFlags,
    fdLimit: plan.fdLimit,
    serverWindow: plan.serverWindow,
    trace: opts.trace,
  });
  const failures: string[] = [];
  const reactor: Reactor =
    opts.load !== undefined ? await opts.load(sim) : opts.variant === 'broken' ? await loadReactorVariant(sim, 'broken') : loadReactor(sim);
  const data: Uint8Array[] = plan.clients.map((c) => {
    const b = new Uint8Array(c.size);
    sim.world.rng.fill(b);
    return b;
  });
  const driver = new EchoDriver(sim, reactor, plan.policy, (id) => data[id]!);
  const result = (extra: string[] = []): ScenarioResult => {
    // causes first (traps, wrong-connection deliveries, model violations), consequences after
    const all = [...driver.failures, ...sim.world.violations.map((v) => `model violation at ${v.time}ns: ${v.message}`), ...extra, ...failures];
    return {
      seed,
      ok: all.length === 0,
      failures: all,
      hash: sim.trace.hash,
      calls: sim.trace.calls,
      steps: sim.world.steps,
      virtualNs: sim.world.now,
      plan,
      summary: `${plan.clients.length} clients, ${data.reduce((a, b) => a + b.length, 0)} bytes, ${sim.kernel.counters.accepted} accepted, ${sim.kernel.counters.enobufs} ENOBUFS, ${sim.kernel.counters.shortSends} short sends, ${[...sim.kernel.rings.values()].reduce((a, r) => a + r.overflowed, 0)} overflowed CQEs`,
    };
  };

  const rc = driver.call('create', () => reactor.create(plan.config));
  if (rc === undefined || rc < 0) return result([`create failed: ${rc}`]);
  const host = plan.listenFamily === 6 ? '::1' : plan.listenFamily === 0 ? '::' : '127.0.0.1';
  const port = driver.call('listen', () => reactor.listen(host, 0, plan.listenFamily, 64));
  if (port === undefined || port <= 0) return result([`listen failed: ${port}`]);
  driver.start();

  for (const p of plan.pressure) {
    sim.world.after(p.atNs, () => sim.kernel.setCqPressure(p.cap));
    sim.world.after(p.atNs + p.forNs, () => sim.kernel.setCqPressure(undefined));
  }

  // ---- clients
  interface ClientState {
    plan: ClientPlan;
    c: SimClient;
    written: number;
    received: number;
    mismatch: boolean;
    selfEnded: boolean;
  }
  const states: ClientState[] = [];
  for (const cp of plan.clients) {
    const c = sim.client({
      family: cp.family,
      rcvCap: cp.rcvCap,
      readChunk: cp.slow ? [1, 512] : [1024, 65536],
      readDelay: cp.slow ? [10_000, 300_000] : [500, 5_000],
    });
    const st: ClientState = { plan: cp, c, written: 0, received: 0, mismatch: false, selfEnded: false };
    states.push(st);
    const want = data[cp.id]!;
    c.onData = (b) => {
      if (!st.mismatch) {
        if (st.received + b.length > want.length) {
          st.mismatch = true;
          failures.push(`client ${cp.id} received ${st.received + b.length} bytes but sent ${want.length}`);
        } else {
          for (let i = 0; i < b.length; i++) {
            if (b[i] !== want[st.received + i]) {
              st.mismatch = true;
              failures.push(`client ${cp.id} received a wrong byte at ${st.received + i} (not its own data: wrong connection or reordering)`);
              break;
            }
          }
        }
      }
      st.received += b.length;
      if (cp.kind === 'close-after-echo' && st.received === want.length && st.written === want.length) {
        st.selfEnded = true;
        c.close();
      }
    };
    const writeSome = (): void => {
      if (c.state === 'closed' || c.error !== 0) return;
      const rng = sim.world.rng;
      if ((cp.kind === 'early-close' || cp.kind === 'reset') && st.written >= cp.cutAt) {
        st.selfEnded = true;
        if (cp.kind === 'reset') c.reset();
        else c.close();
        return;
      }
      if (st.written < want.length) {
        let n = Math.min(want.length - st.written, rng.int(cp.chunk[0], cp.chunk[1]));
        if (cp.kind === 'early-close' || cp.kind === 'reset') n = Math.min(n, Math.max(1, cp.cutAt - st.written));
        c.write(want.subarray(st.written, st.written + n));
        st.written += n;
        sim.world.after(sim.world.delay(cp.gapNs), writeSome);
        return;
      }
      if (cp.kind === 'echo') c.shutdownWrite();
      if (cp.kind === 'close-after-echo' && st.received === want.length) {
        st.selfEnded = true;
        c.close();
      }
    };
    c.onConnect = () => {
      if (cp.kind === 'silent') {
        sim.world.after(cp.silentNs, () => {
          if (c.state !== 'closed' && c.error === 0) c.shutdownWrite();
        });
      } else writeSome();
    };
    sim.world.after(cp.startNs, () => c.connect(port));
  }

  // ---- run to quiescence
  const maxSteps = opts.maxSteps ?? 3_000_000;
  sim.world.run(maxSteps);
  if (sim.world.pending > 0) failures.push(`livelock: ${maxSteps} events and the world is still busy (${sim.world.pending} pending, virtual ${sim.world.now}ns)`);

  sim.trace.note(`=== quiescent after ${sim.world.steps} events: checking client invariants`);
  for (const r of sim.kernel.rings.values()) {
    // Nothing left to happen, yet completions wait: nobody will ever wake the reactor for them.
    if (r.cqCount > 0 || r.overflow.length > 0 || r.taskWork.length > 0) {
      failures.push(`stall: the world is idle with ${r.cqCount} CQE(s) in the CQ, ${r.overflow.length} in the overflow backlog and ${r.taskWork.length} task-work item(s) unreaped (no wake-up will come)`);
    }
  }
  // ---- client-side invariants
  for (const st of states) {
    const { plan: cp, c } = st;
    const want = data[cp.id]!;
    const cutByServer = driver.serverClosed.has(cp.id);
    const sock = c.serverEp?.owner as { tag?: Record<string, unknown> } | undefined;
    const rejected = sock !== undefined && sock.tag?.['opened'] !== true;
    if (st.selfEnded || cutByServer || rejected) continue;
    const why = driver.closedErrnoByClient.has(cp.id) ? ` (the server closed it, errno ${driver.closedErrnoByClient.get(cp.id)}: a CQE of another connection?)` : '';
    if (cp.kind === 'echo' || cp.kind === 'silent' || cp.kind === 'close-after-echo') {
      if (c.error !== 0) failures.push(`client ${cp.id} (${cp.kind}) saw error ${c.error} after ${st.received}/${want.length} bytes echoed${why}`);
      else if (cp.kind !== 'close-after-echo' && !c.eof) failures.push(`client ${cp.id} (${cp.kind}) stalled: ${st.received}/${want.length} bytes echoed, no EOF (state ${c.state}, outbox ${c.outboxBytes})`);
      else if (st.received !== want.length) failures.push(`client ${cp.id} (${cp.kind}) got ${st.received}/${want.length} bytes before EOF${why}`);
    }
  }

  // ---- server-side invariants (before teardown)
  if (!driver.dead) {
    if (driver.conns.size > 0) failures.push(`${driver.conns.size} connection(s) never closed: slots ${[...driver.conns.keys()].join(',')}`);
    driver.call('submit', () => reactor.submit());
    sim.world.run(maxSteps);
    const st = driver.call('stats', () => reactor.stats());
    if (st !== undefined) {
      if (st.connectionsOpen !== 0) failures.push(`stats: ${st.connectionsOpen} connections open at the end`);
      if (st.buffersApp !== 0) failures.push(`stats: ${st.buffersApp} buffers still with the app`);
      const entries = plan.config.bufferRingEntries;
      if (st.buffersKernel + st.buffersReturning !== entries) failures.push(`stats: ${st.buffersKernel} + ${st.buffersReturning} of ${entries} buffers home`);
      const published = Math.min(st.buffersWarm, entries - st.recvReserve);
      if (st.buffersKernel !== published) failures.push(`stats: ${st.buffersKernel}/${published} buffers with the kernel after a submit (warm ${st.buffersWarm})`);
      const rejectedSocks = sim.kernel.acceptedSocks.filter((s) => s.tag['opened'] !== true).length;
      if (BigInt(rejectedSocks) !== st.rejected) failures.push(`stats: rejected ${st.rejected}, but ${rejectedSocks} accepted sockets never got an open event`);
      if (BigInt(driver.opens) !== st.accepted) failures.push(`stats: accepted ${st.accepted} != ${driver.opens} open events`);
      if (BigInt(driver.closes) !== st.closed) failures.push(`stats: closed ${st.closed} != ${driver.closes} closed events`);
      if (BigInt(sim.kernel.counters.accepted) !== st.accepted + st.rejected) failures.push(`stats: accepted ${st.accepted} + rejected ${st.rejected} != ${sim.kernel.counters.accepted} accepted by the kernel`);
    }
    for (const br of sim.kernel.bufRings.values()) {
      if (br.avail !== br.entries) failures.push(`buffer ring ${br.handle}: ${br.avail}/${br.entries} buffers published at the end`);
    }
    const owned = sim.kernel.ownedFdList();
    if (owned.length !== 1) failures.push(`guest owns fds ${owned.join(',')} at the end (expected only the listener)`);
    const inflight = sim.kernel.inflight().filter((o) => o.opcode !== 'accept');
    if (inflight.length > 0) failures.push(`requests still in flight at the end: ${inflight.map((o) => `${o.opcode}:0x${o.userData.toString(16)}`).join(' ')}`);
  }
  for (const s of sim.kernel.acceptedSocks) {
    if (s.closeCount !== 1) failures.push(`accepted socket of client ${s.ep?.clientId} (fd ${s.fd}) closed ${s.closeCount} times`);
  }
  if (sim.kernel.counters.badFdCloses !== 0) failures.push(`${sim.kernel.counters.badFdCloses} close() of an fd the guest did not own`);

  // ---- teardown: stop accepting, destroy, nothing left
  sim.trace.note('=== teardown: stop-accepting, destroy');
  if (!driver.dead) {
    driver.call('stop-accepting', () => reactor.stopAccepting());
    driver.call('submit', () => reactor.submit());
    sim.world.run(maxSteps);
    driver.stop();
    const d = driver.call('destroy', () => reactor.destroy());
    if (d !== undefined && d < 0) failures.push(`destroy = ${d}`);
    sim.world.run(maxSteps);
    if (sim.ownedFds() !== 0) failures.push(`after destroy the guest still owns fds ${sim.kernel.ownedFdList().join(',')}`);
    if (sim.kernel.rings.size !== 0) failures.push(`after destroy ${sim.kernel.rings.size} ring(s) remain`);
    if (sim.kernel.slabs.size !== 0) failures.push(`after destroy ${sim.kernel.slabs.size} slab(s) remain`);
    if (sim.kernel.liveSockets.size !== 0) failures.push(`after destroy ${sim.kernel.liveSockets.size} socket(s) remain`);
  }
  return result();
}

export function replayCommand(seed: number, variant?: 'broken'): string {
  return `node --import tsx test/sim/runner.ts --seed ${seed} --trace${variant ? ' --broken' : ''}`;
}

export type { SimBackend };
