// The same reactor .wasm in four runtimes gives one trace: examples/browser
// runs in real headless Chromium (Debian's /usr/bin/chromium through
// playwright-core; nothing is downloaded), served from a loopback server, and
// its trace hash for every seed must equal what Node (this process), Bun and
// Deno compute for that seed with the same scenario. A missing Chromium is a
// failure, not a skip: `make setup` installs it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { compileReactorCores } from '../../bridge/component.ts';
import { runEchoScenario } from '../../examples/browser/scenario.ts';
import type { EchoScenarioResult } from '../../examples/browser/scenario.ts';
import { serveBrowserExample } from '../../examples/browser/serve.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const SEEDS = [1, 2, 3, 4, 5, 42, 1234];
const CLI = 'examples/browser/cli.ts';

interface Row { runtime: string; seed: number; hash: string; calls: number; failures: string[] }

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, {
      cwd: ROOT, timeout: 120_000, maxBuffer: 16 << 20,
      env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1' },
    }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

function parseRows(out: string): Row[] {
  return out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Row);
}

async function chromiumRun(seeds: number[]): Promise<{ results: EchoScenarioResult[]; domHashes: string[]; trace: string; title: string; userAgent: string; requests: string[]; blocked: string[]; console: string[] }> {
  const server = await serveBrowserExample(0, '127.0.0.1');
  const profile = mkdtempSync(join(tmpdir(), 'zl-chromium-'));
  const blocked: string[] = [];
  const consoleErrors: string[] = [];
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    // Only the loopback example server may be reached from the page.
    await ctx.route('**/*', (route) => {
      const u = route.request().url();
      if (u.startsWith(server.url)) return route.continue();
      blocked.push(u);
      return route.abort();
    });
    const page = ctx.pages()[0] ?? await ctx.newPage();
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(`${server.url}?seeds=${seeds.join(',')}`);
    await page.waitForFunction(() => window.zergling?.done === true, undefined, { timeout: 120_000 });
    const state = await page.evaluate(() => window.zergling);
    if (state.error !== undefined) throw new Error(`the page failed: ${state.error}`);
    const domHashes = await page.$$eval('#hashes tr', (trs) => trs.map((tr) => tr.children[1]?.textContent ?? ''));
    const trace = await page.$eval('#trace', (e) => e.textContent ?? '');
    const title = await page.$eval('#trace-title', (e) => e.textContent ?? '');
    const userAgent = await page.evaluate(() => navigator.userAgent);
    return { results: state.results, domHashes, trace, title, userAgent, requests: [...server.requests], blocked, console: consoleErrors };
  } finally {
    await ctx.close();
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

test('the browser bundle has no node: module and no native path on it', async () => {
  const s = await serveBrowserExample(0, '127.0.0.1');
  await s.close();
  const inputs = s.bundle.inputs;
  assert.ok(inputs.includes('bridge/gen/reactor/reactor.js'), 'the jco-transpiled component is in the bundle');
  assert.ok(inputs.includes('bridge/sim/kernel.ts'), 'the simulator is in the bundle');
  for (const f of inputs) {
    assert.not.ok(f.startsWith('node:'), `bundle imports ${f}`);
    assert.not.ok(/bridge\/(index|native)\.ts$/.test(f), `bundle pulls in ${f} (node:fs / N-API path)`);
  }
  const wasm = [...s.bundle.files.keys()].filter((k) => k.endsWith('.wasm')).sort();
  const onDisk = (await import('node:fs')).readdirSync(join(ROOT, 'bridge/gen/reactor')).filter((f) => f.endsWith('.wasm')).sort();
  assert.equal(wasm, onDisk.map((f) => `reactor/${f}`), 'the page gets the very core modules make wasm wrote');
});

test('Chromium, Node, Bun and Deno give one trace hash per seed', async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run make setup (APT_PKGS has chromium)`);

  const cores = await compileReactorCores((f) => readFile(join(ROOT, 'bridge/gen/reactor', f)));
  const node: Row[] = SEEDS.map((seed) => ({ runtime: 'node', ...runEchoScenario(seed, cores) }));
  const [bun, deno, page] = await Promise.all([
    run(join(ROOT, 'node_modules/.bin/bun'), [CLI, ...SEEDS.map(String)]).then(parseRows),
    run(join(ROOT, 'node_modules/.bin/deno'), ['run', '-A', '--cached-only', CLI, ...SEEDS.map(String)]).then(parseRows),
    chromiumRun(SEEDS),
  ]);
  const browser: Row[] = page.results.map((r) => ({ runtime: 'chromium', ...r }));

  assert.equal(bun.map((r) => r.runtime), SEEDS.map(() => 'bun'), 'the bun rows really came from Bun');
  assert.equal(deno.map((r) => r.runtime), SEEDS.map(() => 'deno'), 'the deno rows really came from Deno');
  const table = [node, browser, bun, deno];
  for (const rows of table) assert.equal(rows.map((r) => r.seed), SEEDS, `${rows[0]?.runtime}: every seed ran`);

  assert.match(page.userAgent, /HeadlessChrome\/\d+/, 'the page ran in headless Chromium');
  const pad = (s: string, n: number): string => s.padEnd(n);
  console.log(`\nchromium: ${page.userAgent}`);
  console.log(`\n${pad('seed', 6)} ${pad('calls', 7)} ${['node', 'chromium', 'bun', 'deno'].map((r) => pad(r, 17)).join(' ')}`);
  SEEDS.forEach((seed, i) => {
    console.log(`${pad(String(seed), 6)} ${pad(String(node[i]!.calls), 7)} ${table.map((rows) => pad(rows[i]!.hash, 17)).join(' ')}`);
  });

  for (const [i, seed] of SEEDS.entries()) {
    for (const rows of table) {
      const r = rows[i]!;
      assert.equal(r.failures, [], `${r.runtime} seed ${seed}: the echo scenario passed`);
      assert.is(r.hash, node[i]!.hash, `${r.runtime} seed ${seed}: same hash as Node`);
      assert.is(r.calls, node[i]!.calls, `${r.runtime} seed ${seed}: same number of host calls`);
    }
  }
  // A constant hash would pass the comparison above: the seeds must differ.
  assert.is(new Set(node.map((r) => r.hash)).size, SEEDS.length, 'different seeds give different traces');

  // The page shows what it computed: the hash table and the first seed's readable trace.
  assert.equal(page.domHashes, browser.map((r) => r.hash), 'the page shows the hashes');
  assert.ok(page.title.includes(node[0]!.hash), `trace title shows the hash: ${page.title}`);
  assert.ok(page.trace.includes('peekBatchCqe(') && page.trace.includes('submit('), 'the page shows the readable trace');
  assert.equal(page.console, [], 'no error on the page console');
  assert.equal(page.blocked, [], 'the page reached nothing but the loopback server');
  for (const p of page.requests) assert.ok(/^\/(\?.*)?$|^\/main\.js$|^\/reactor\/[\w.]+\.wasm$|^\/favicon\.ico$/.test(p), `unexpected request ${p}`);
});

test.run();
