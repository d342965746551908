// The core's include graph (scripts/include-graph.mjs): no cycle, every module
// in a layer, no include pointing up a layer, and docs/ARCHITECTURE.md shows
// the current graph. The checker itself must catch a cycle and an upward
// include in a tree made for the purpose.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = new URL('../../scripts/include-graph.mjs', import.meta.url).pathname;

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A throwaway tree with these wasm/src files and a docs/ARCHITECTURE.md with the markers. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'zl-layering-'));
  mkdirSync(join(root, 'wasm/src'), { recursive: true });
  mkdirSync(join(root, 'docs'));
  writeFileSync(join(root, 'docs/ARCHITECTURE.md'), '<!-- include-graph -->\n<!-- /include-graph -->\n');
  for (const [f, text] of Object.entries(files)) writeFileSync(join(root, 'wasm/src', f), text);
  return root;
}

test('wasm/src: no cycle, every module layered, nothing includes upwards, the document is current', () => {
  const r = run('--check');
  assert.is(r.stderr, '', r.stderr);
  assert.is(r.status, 0);
  for (const layer of ['base', 'tables', 'resources', 'lifecycle', 'handlers', 'flush', 'reactor', 'abi']) {
    assert.ok(r.stdout.includes(`** — `) && r.stdout.includes(` ${layer}**`), `layer ${layer} printed`);
  }
  console.log(r.stdout);
});

test('the checker fails on a cycle and names it', () => {
  const root = tree({
    'zl_work.h': '#include "zl_conn.h"\n',
    'zl_conn.h': '#include "zl_work.h"\n',
  });
  try {
    const r = run('--root', root);
    assert.is(r.status, 1);
    assert.match(r.stderr, /cycle: zl_conn -> zl_work -> zl_conn/);
  } finally {
    rmSync(root, { recursive: true });
  }
});

test('the checker fails on an include from a higher layer and on an unlayered module', () => {
  const root = tree({
    'zl_conn.c': '#include "zl_conn.h"\n#include "zl_flush.h"\n',
    'zl_conn.h': '',
    'zl_flush.h': '',
    'zl_stray.c': '',
  });
  try {
    const r = run('--root', root);
    assert.is(r.status, 1);
    assert.match(r.stderr, /zl_conn \(tables\) includes zl_flush\.h from a higher layer \(flush\)/);
    assert.match(r.stderr, /zl_stray: in no layer/);
    assert.not.match(r.stderr, /cycle/);
  } finally {
    rmSync(root, { recursive: true });
  }
});

test.run();
