// When the kernel refuses io_uring_setup (ENOSYS: not available / filtered;
// EPERM: disabled or forbidden), checkIoUring() throws an Error with that code
// and a message that says so. The refusal is simulated per process with a
// seccomp filter (native/tools/noring.c); nothing global is touched.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const launcher = `${root}build/noring`;

test('build the seccomp launcher', () => {
  mkdirSync(`${root}build`, { recursive: true });
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', launcher, `${root}native/tools/noring.c`]);
});

for (const [code, errno] of [['ENOSYS', -38], ['EPERM', -1]] as const) {
  test(`io_uring_setup refused with ${code}`, () => {
    const out = execFileSync(launcher, [code, process.execPath, '--import', 'tsx', `${root}test/native/noring-child.ts`],
      { cwd: root, encoding: 'utf8', timeout: 30_000 });
    const r = JSON.parse(out) as Record<string, unknown>;
    assert.is(r.createRing, errno, 'create-ring returns the negative errno');
    assert.is(r.threw, true);
    assert.is(r.isError, true);
    assert.is(r.code, code);
    assert.is(r.errno, errno);
    assert.is(r.syscall, 'io_uring_setup');
    assert.match(String(r.message), /io_uring is unavailable/);
    assert.match(String(r.message), /\/proc\/sys\/kernel\/io_uring_disabled/);
    assert.match(String(r.message), /seccomp/);
  });
}

test('without the filter the same child sees io_uring', () => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', `${root}test/native/noring-child.ts`],
    { cwd: root, encoding: 'utf8', timeout: 30_000 });
  const r = JSON.parse(out) as Record<string, unknown>;
  assert.ok((r.createRing as number) > 0);
  assert.is(r.threw, false);
});

test.run();
