// The simulation runner.
//   node --import tsx test/sim/runner.ts --seeds N [--start S] [--broken]
//   node --import tsx test/sim/runner.ts --seed S --trace [--broken]
// Runs N random scenarios (seeds S..S+N-1) against the real reactor core with
// the echo driver and checks every invariant after each. A failure prints the
// seed and a one-line command that replays it with the full trace. Ends with
// the throughput in seeds per second. Exit code 1 on any failure.
import { performance } from 'node:perf_hooks';
import { replayCommand, runScenario } from './scenario.ts';

interface Args {
  seeds: number;
  start: number;
  seed: number | undefined;
  trace: boolean;
  broken: boolean;
  quiet: boolean;
}

function parse(argv: string[]): Args {
  const a: Args = { seeds: 1000, start: 1, seed: undefined, trace: false, broken: false, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${k} needs a non-negative integer`);
      return v;
    };
    if (k === '--seeds') a.seeds = num();
    else if (k === '--start') a.start = num();
    else if (k === '--seed') a.seed = num();
    else if (k === '--trace') a.trace = true;
    else if (k === '--broken') a.broken = true;
    else if (k === '--quiet') a.quiet = true;
    else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2));
  const variant = args.broken ? ('broken' as const) : undefined;
  if (args.seed !== undefined) {
    const out = args.trace ? (l: string) => process.stdout.write(l + '\n') : undefined;
    const r = await runScenario(args.seed, { variant, trace: out });
    console.log(`seed ${r.seed}: ${r.ok ? 'ok' : 'FAILED'} — ${r.summary}`);
    console.log(`plan: ${JSON.stringify({ config: r.plan.config, faults: r.plan.faults, policy: r.plan.policy, pressure: r.plan.pressure, refuseSetupFlags: r.plan.refuseSetupFlags, fdLimit: r.plan.fdLimit, serverWindow: r.plan.serverWindow })}`);
    console.log(`trace: ${r.calls} host calls, hash ${r.hash}; ${r.steps} events; virtual time ${(r.virtualNs / 1e6).toFixed(3)} ms`);
    for (const f of r.failures) console.log(`  - ${f}`);
    return r.ok ? 0 : 1;
  }
  // wall-clock time is for the throughput report only, never inside the simulation
  const t0 = performance.now();
  let failed = 0;
  let calls = 0;
  for (let s = args.start; s < args.start + args.seeds; s++) {
    const r = await runScenario(s, { variant });
    calls += r.calls;
    if (!r.ok) {
      failed++;
      console.log(`FAIL seed ${s}: ${r.failures[0]}${r.failures.length > 1 ? ` (+${r.failures.length - 1} more)` : ''}`);
      console.log(`  replay: ${replayCommand(s, variant)}`);
    }
    if (!args.quiet && (s - args.start + 1) % 1000 === 0) {
      const dt = (performance.now() - t0) / 1000;
      console.log(`… ${s - args.start + 1} seeds, ${failed} failed, ${((s - args.start + 1) / dt).toFixed(1)} seeds/s`);
    }
  }
  const dt = (performance.now() - t0) / 1000;
  console.log(`${args.seeds} seeds (${args.start}..${args.start + args.seeds - 1})${variant ? ' [broken core]' : ''}: ${args.seeds - failed} passed, ${failed} failed, ${calls} host calls`);
  console.log(`${dt.toFixed(1)} s, ${(args.seeds / dt).toFixed(1)} seeds/s`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);
