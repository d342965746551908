// Child of noring.test.ts, run under native/tools/noring (io_uring_setup
// filtered by seccomp): reports what checkIoUring() threw, as JSON.
import { checkIoUring, loadNativeAddon } from '../../bridge/native.ts';

const out: Record<string, unknown> = { createRing: loadNativeAddon().createRing(4) };
try {
  checkIoUring();
  out.threw = false;
} catch (e) {
  const err = e as Error & { code?: string; errno?: number; syscall?: string };
  Object.assign(out, {
    threw: true, isError: e instanceof Error, code: err.code, errno: err.errno, syscall: err.syscall,
    message: err.message,
  });
}
process.stdout.write(JSON.stringify(out));
