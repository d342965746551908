// The helper carries liburing inside: no liburing.so at run time, and no
// io_uring_* symbol exported to clash with another copy in the process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const so = fileURLToPath(new URL('../../native/build/Release/zergling_native.node', import.meta.url));

test('ldd shows no liburing', () => {
  const out = execFileSync('ldd', [so], { encoding: 'utf8' });
  assert.ok(out.includes('libc.so'), out);
  assert.not.match(out, /uring/);
});

test('nm -D exports no io_uring_* (but liburing is linked in)', () => {
  const dyn = execFileSync('nm', ['-D', '--defined-only', so], { encoding: 'utf8' });
  assert.not.match(dyn, /io_uring/);
  assert.match(dyn, /napi_register_module_v1/);
  const all = execFileSync('nm', [so], { encoding: 'utf8' });
  assert.match(all, / t io_uring_queue_init_params/, 'liburing is inside, local');
});

test.run();
