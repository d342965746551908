// The browser example's scenario outside a browser: Node, Bun and Deno run the
// same scenario.ts on the same reactor component and print one JSON line per
// seed. The only difference from the page is how the core modules are read.
//   node --import tsx examples/browser/cli.ts 1 2 3
//   node_modules/.bin/bun examples/browser/cli.ts 1 2 3
//   node_modules/.bin/deno run -A examples/browser/cli.ts 1 2 3
import { readFile } from 'node:fs/promises';
import { compileReactorCores } from '../../bridge/component.ts';
import { runEchoScenario } from './scenario.ts';

const g = globalThis as { Bun?: unknown; Deno?: unknown };
const runtime = g.Bun !== undefined ? 'bun' : g.Deno !== undefined ? 'deno' : 'node';
const args = process.argv.slice(2);
const seeds = (args.length > 0 ? args : ['1', '2', '3', '4', '5']).map(Number);
const cores = await compileReactorCores((f) => readFile(new URL(`../../bridge/gen/reactor/${f}`, import.meta.url)));
for (const seed of seeds) {
  const r = runEchoScenario(seed, cores);
  console.log(JSON.stringify({ runtime, ...r }));
}
