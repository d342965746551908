// The README's "Testing without io_uring" example runs as written: its code
// block is cut out of README.md, the package specifiers 'zergling' and
// 'zergling/sim' are pointed at this checkout's modules (src/index.ts,
// bridge/sim/index.ts; nothing else in the block is touched), and it runs in
// a fresh Node process that must print the echo and a trace line, exit 0 on
// its own (no handle left behind), and print the same trace every time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SPECIFIERS: Record<string, string> = {
  zergling: pathToFileURL(join(ROOT, 'src/index.ts')).href,
  'zergling/sim': pathToFileURL(join(ROOT, 'bridge/sim/index.ts')).href,
};

function example(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('\n## Testing without io_uring\n');
  assert.ok(at >= 0, 'README has the section');
  const section = readme.slice(at + 1, readme.indexOf('\n## ', at + 1));
  const m = /```ts\n([\s\S]*?)\n```/.exec(section);
  assert.ok(m !== null, 'the section has a ts code block');
  return m[1]!;
}

function mapSpecifiers(code: string): string {
  const seen = new Set<string>();
  const out = code.replace(/(from\s+)'([^']+)'/g, (all, from: string, spec: string) => {
    const to = SPECIFIERS[spec];
    if (to === undefined) return all;
    seen.add(spec);
    return `${from}'${to}'`;
  });
  assert.equal([...seen].sort(), Object.keys(SPECIFIERS).sort(), 'the example imports from zergling and zergling/sim');
  return out;
}

function runExample(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // cwd = the repo, so `--import tsx` resolves from its node_modules.
    execFile(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
    });
  });
}

test('the README simulator example runs as written and prints a reproducible trace', async () => {
  const code = example();
  assert.match(code, /import \{ listen \} from 'zergling';/);
  assert.match(code, /import \{ createSimBackend \} from 'zergling\/sim';/);
  const dir = mkdtempSync(join(tmpdir(), 'zl-readme-'));
  try {
    const file = join(dir, 'example.mts');
    writeFileSync(file, mapSpecifiers(code));
    const runs = [await runExample(file), await runExample(file)];
    for (const r of runs) {
      assert.is(r.code, 0, `exit code (stderr: ${r.stderr})`);
      const lines = r.stdout.trimEnd().split('\n');
      assert.is(lines.length, 2, r.stdout);
      assert.is(lines[0], 'hello, simulated kernel', 'the echo came back');
      assert.match(lines[1]!, /^trace [0-9a-f]{16} after \d+ host calls, [\d.]+ virtual ms$/);
    }
    assert.is(runs[0]!.stdout, runs[1]!.stdout, 'seed 42 replays the same trace');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

interface Block {
  name: string;
  text: string;
}

test('every README benchmark block is the one bench/readme.mjs generates from bench/results', async () => {
  const { readmeBlocks, splice } = (await import(pathToFileURL(join(ROOT, 'bench/readme.mjs')).href)) as {
    readmeBlocks: () => Block[];
    splice: (text: string, blocks: Block[]) => string;
  };
  const blocks = readmeBlocks();
  assert.equal(blocks.map((b) => b.name).sort(), ['bench', 'bench-bridge', 'bench-http'], 'the blocks readme.mjs writes');
  const want = Object.fromEntries(blocks.map((b) => [b.name, b.text]));
  assert.ok(want['bench']!.includes('| echo64 |'), 'latest.jsonl has echo rows');
  assert.ok(want['bench-http']!.includes('| http (') && want['bench-http']!.includes('| http_pipe16 ('), 'latest.jsonl has HTTP rows');
  assert.not.ok(want['bench-http']!.includes('| echo64'), 'the HTTP block has HTTP rows only');
  assert.ok(want['bench-bridge']!.includes('| sq-ready'), 'bridge.json has rows');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const fix = 'run `node bench/readme.mjs --write`';
  for (const { name, text } of blocks) {
    const begin = `<!-- ${name}:begin -->`, end = `<!-- ${name}:end -->`;
    const a = readme.indexOf(begin), b = readme.indexOf(end);
    assert.ok(a >= 0 && b > a, `README.md has the ${begin} … ${end} block`);
    assert.is(readme.indexOf(begin, a + 1), -1, `README.md has one ${begin}`);
    assert.is(readme.slice(a, b + end.length), text, `README.md's ${name} block differs from the results files: ${fix}`);
  }
  assert.is(splice(readme, blocks), readme, `README.md differs from \`node bench/readme.mjs --write\`: ${fix}`);
});

test.run();
