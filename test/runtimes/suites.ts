// Runs whole uvu test files under another runtime (Bun, Deno) on real
// io_uring, one child per file, and turns each file's uvu summary into one
// test here: the file passes only if it ran tests and all of them passed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The suites every runtime runs: listen/close/address (echo, lifecycle),
 * read/release (chunk), write/flush (echo, 64 MiB), toDuplex + node:http and
 * toWeb (http), the examples as child processes (http), and zergling/http's
 * Response against the runtime's own (web-response: there the export is the
 * runtime's Response, and what the server writes must still match).
 */
export const API_SUITES = [
  'test/api/echo.test.ts', 'test/api/chunk.test.ts', 'test/api/lifecycle.test.ts', 'test/api/http.test.ts',
  'test/http/web-response.test.ts',
] as const;

export function runSuites(runtime: string, argv: readonly string[], files: readonly string[]): void {
  for (const file of files) {
    test(`${runtime}: ${file}`, () => {
      const r = spawnSync(argv[0]!, [...argv.slice(1), file], {
        cwd: root, encoding: 'utf8', timeout: 180_000, env: { ...process.env, NO_COLOR: '1' },
      });
      const out = `${r.stdout}${r.stderr}`;
      const total = Number(/^\s*Total:\s+(\d+)/m.exec(out)?.[1] ?? 0);
      const passed = Number(/^\s*Passed:\s+(\d+)/m.exec(out)?.[1] ?? 0);
      const skipped = Number(/^\s*Skipped:\s+(\d+)/m.exec(out)?.[1] ?? 0);
      const tail = out.slice(-3000);
      if (process.env.ZL_VERBOSE) console.log(`${runtime} ${file}: ${passed}/${total}`);
      assert.is(r.error, undefined, `${runtime} ${file} did not run: ${String(r.error)}`);
      assert.ok(total > 0, `${runtime} ${file} ran no test:\n${tail}`);
      assert.is(skipped, 0, `${runtime} ${file} skipped tests:\n${tail}`);
      assert.is(passed, total, `${runtime} ${file}: ${passed} of ${total} passed:\n${tail}`);
      assert.is(r.status, 0, `${runtime} ${file} exited ${r.status} (${r.signal ?? 'no signal'}):\n${tail}`);
    });
  }
}
