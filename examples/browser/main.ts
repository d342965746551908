// The page's module: fetches and compiles the reactor component's core
// modules, runs the seeded echo scenario for each seed of `?seeds=1,2,3`
// (default 1..5), and shows each trace hash and the readable trace of the
// first seed. Results are also left on `window.zergling` for scripted checks.
import { compileReactorCores } from '../../bridge/component.ts';
import { runEchoScenario } from './scenario.ts';
import type { EchoScenarioResult } from './scenario.ts';

interface PageState {
  done: boolean;
  results: EchoScenarioResult[];
  error?: string;
}

declare global {
  interface Window { zergling: PageState }
}

const MAX_LINES = 2000;

async function main(): Promise<void> {
  const state: PageState = { done: false, results: [] };
  window.zergling = state;
  const status = document.getElementById('status')!;
  try {
    const q = new URLSearchParams(location.search).get('seeds');
    const seeds = (q ?? '1,2,3,4,5').split(',').filter((s) => s !== '').map(Number);
    // The core modules sit next to the page in reactor/ (bridge/gen/reactor as `make wasm` wrote it).
    const cores = await compileReactorCores((f) => fetch(new URL(`reactor/${f}`, document.baseURI)));
    const rows = document.getElementById('hashes')!;
    const lines: string[] = [];
    for (const [i, seed] of seeds.entries()) {
      status.textContent = `running seed ${seed}...`;
      const r = runEchoScenario(seed, cores, i === 0 ? { trace: (l) => { if (lines.length < MAX_LINES) lines.push(l); } } : {});
      state.results.push(r);
      const tr = document.createElement('tr');
      tr.dataset['seed'] = String(seed);
      for (const v of [seed, r.hash, r.calls, r.clients, r.bytes, (r.virtualNs / 1e6).toFixed(3), r.failures.length === 0 ? 'ok' : r.failures.join('; ')]) {
        const td = document.createElement('td');
        td.textContent = String(v);
        tr.appendChild(td);
      }
      rows.appendChild(tr);
      // let the page paint between seeds
      await new Promise((resolve) => requestAnimationFrame(resolve));
    }
    if (seeds.length > 0) {
      const first = state.results[0]!;
      document.getElementById('trace-title')!.textContent =
        `Trace of seed ${first.seed}: ${first.calls} host calls, hash ${first.hash}` +
        (lines.length >= MAX_LINES ? ` (first ${MAX_LINES} lines)` : '');
      document.getElementById('trace')!.textContent = lines.join('\n');
    }
    status.textContent = `done: ${seeds.length} seeds`;
  } catch (e) {
    state.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    status.textContent = `failed: ${state.error}`;
  }
  state.done = true;
}

void main();
