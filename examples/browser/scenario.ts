// One seeded echo scenario on the simulated kernel, driven straight through
// the reactor API (no node: module anywhere on this path): the browser page,
// and Node, Bun and Deno through cli.ts, run exactly this and compare hashes.
//
// The seed picks the faults (short sends, partial reads, split segments,
// async issue, late completions), the reactor's buffer sizes and the clients
// (count, sizes, chunking, start times). The server echoes every data event
// straight out of the receive slab and closes on EOF; every client checks
// that its echo came back byte for byte.
import { instantiateReactor } from '../../bridge/component.ts';
import type { GetCoreModule } from '../../bridge/component.ts';
import type { Reactor } from '../../bridge/backend.ts';
import { createSimBackend } from '../../bridge/sim/index.ts';
import type { SimBackend } from '../../bridge/sim/index.ts';
import { EV_CLOSED, EV_DATA, EV_EOF, EV_OPEN } from '../../bridge/consts.ts';

export interface EchoScenarioResult {
  seed: number;
  /** The trace hash: every host call the core made, its arguments and result. */
  hash: string;
  calls: number;
  steps: number;
  virtualNs: number;
  clients: number;
  bytes: number;
  /** Everything that went wrong (empty when every echo was exact and nothing leaked). */
  failures: string[];
}

export interface EchoScenarioOptions {
  /** Receives the readable trace, one line per host call and world event. */
  trace?: (line: string) => void;
}

/** Runs the scenario of `seed` on a fresh simulated kernel and a fresh reactor instance. */
export function runEchoScenario(seed: number, getCoreModule: GetCoreModule, opts: EchoScenarioOptions = {}): EchoScenarioResult {
  // The plan has its own PRNG stream, so it does not depend on the faults it picks.
  const rng = createSimBackend({ seed: seed ^ 0x0ec40ec4 }).world.rng;
  const sim: SimBackend = createSimBackend({
    seed,
    trace: opts.trace,
    faults: {
      shortSend: rng.pick([0, 0.3, 0.7]),
      partialRead: rng.pick([0, 0.3]),
      segmentSplit: rng.pick([0, 0.5]),
      asyncIssue: rng.pick([0, 0.3]),
      completionDelay: rng.pick([0, 0.2]),
      latency: [1_000, 50_000],
      wakeDelay: [1_000, 20_000],
    },
  });
  const failures: string[] = [];
  const reactor: Reactor = instantiateReactor(sim, getCoreModule);
  const rc = reactor.create({
    ringEntries: rng.pick([4, 16, 64]),
    ringFlags: 0,
    sqThreadCpu: -1,
    sqThreadIdleMs: 0,
    recvBufferSize: rng.pick([64, 512, 4096]),
    bufferRingEntries: rng.pick([4, 16, 64]),
    cqeBatch: rng.pick([4, 64]),
    maxConnections: 64,
    incremental: rng.chance(0.5),
    bufGroup: 0,
    // Budgets off: this scenario pins the raw core's trace across runtimes.
    recvBudget: 0, recvReserve: 0, idleTimeoutMs: 0, endTimeoutMs: 0, maxFd: 4096, sendRanges: 4096,
  });
  if (rc < 0) throw new Error(`seed ${seed}: reactor.create = ${rc}`);
  const port = reactor.listen('127.0.0.1', 0, 4, 64);
  if (port <= 0) throw new Error(`seed ${seed}: reactor.listen = ${port}`);

  // The server: echo each received range from the receive slab, close on EOF.
  const recvSlab = reactor.recvSlab();
  let open = 0;
  const onReady = (): void => {
    for (let round = 0; round < 64; round++) {
      const ev = reactor.tick();
      for (let i = 0; i + 3 < ev.length; i += 4) {
        const w0 = ev[i]!, conn = w0 >>> 8;
        switch (w0 & 0xff) {
          case EV_OPEN: open++; break;
          case EV_DATA: {
            // The write takes its own reference on the buffer: release ours at once.
            const w = reactor.write(conn, recvSlab, ev[i + 2]!, ev[i + 3]!);
            if (w < 0) failures.push(`write on conn ${conn} = ${w}`);
            reactor.release(ev[i + 1]!);
            break;
          }
          case EV_EOF: reactor.close(conn, false); break;
          case EV_CLOSED: open--; break;
          default: break;
        }
      }
      reactor.submit();
      if (ev.length === 0 && sim.host.cqReady(reactor.ring()) === 0) return;
    }
  };
  const unwatch = sim.watch(reactor.ring(), onReady);
  reactor.submit();

  // The clients: each sends its bytes in seeded chunks, half-closes, and reads the echo.
  const n = rng.int(1, 8);
  let total = 0;
  const clients = Array.from({ length: n }, (_, id) => {
    const sent = new Uint8Array(rng.skewed(1, 30_000, 2));
    sim.world.rng.fill(sent);
    total += sent.length;
    const got = new Uint8Array(sent.length);
    const st = { c: sim.client({ readChunk: [1, 8192], segMax: rng.int(1, 4096) }), sent, got, len: 0, id };
    st.c.onData = (b) => {
      if (st.len + b.length > got.length) failures.push(`client ${id}: more bytes back than sent`);
      else got.set(b, st.len);
      st.len += b.length;
    };
    sim.world.after(rng.int(0, 200_000), () => {
      st.c.onConnect = () => {
        for (let off = 0, step = rng.int(1, 5000); off < sent.length; off += step) st.c.write(sent.subarray(off, off + step));
        st.c.shutdownWrite();
      };
      st.c.connect(port);
    });
    return st;
  });

  // Every reaction above is synchronous, so the world alone drives the run.
  sim.run(5_000_000, () => clients.every((s) => s.c.done) && open === 0);
  for (const s of clients) {
    if (!s.c.done) failures.push(`client ${s.id}: not done`);
    else if (s.c.error !== 0) failures.push(`client ${s.id}: error ${s.c.error}`);
    else if (s.len !== s.sent.length || s.got.some((b, i) => b !== s.sent[i])) failures.push(`client ${s.id}: echo differs (${s.len}/${s.sent.length} bytes)`);
    s.c.close();
  }
  sim.run();
  unwatch();
  reactor.destroy();
  sim.run();
  if (sim.ownedFds() !== 0) failures.push(`${sim.ownedFds()} fds left open`);
  for (const v of sim.world.violations) failures.push(`model violation at ${v.time} ns: ${v.message}`);
  return {
    seed, hash: sim.trace.hash, calls: sim.trace.calls, steps: sim.world.steps, virtualNs: sim.world.now,
    clients: n, bytes: total, failures,
  };
}
