// Finds the N-API helper file for this machine. Kept apart from native.ts
// (which loads and wraps it) and free of imports beyond node:fs/path/url, so
// the package's install script can run this same logic from dist/ before
// anything else is built.
//
// Order: an explicit override, then a helper built from source (a checkout's
// `make native`, or the package's node-gyp fallback), then the prebuild for
// this machine's C library. A source build wins over a prebuild because it
// exists only when someone built it on purpose.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZerglingError } from './backend.ts';

export type Libc = 'glibc' | 'musl';

/** The platform folders of `prebuilds/`, one per C library (the package ships both). */
export const PREBUILD_PLATFORMS: Readonly<Record<Libc, string>> = Object.freeze({
  glibc: 'linux-x64-glibc',
  musl: 'linux-x64-musl',
});

export const HELPER_FILE = 'zergling_native.node';

/**
 * The C library this process runs on, or undefined when it cannot tell.
 *
 * /proc/self/maps names the libc actually mapped, which is right under Node,
 * Bun and Deno alike. Checking for /lib/ld-musl-*.so.1 alone would be wrong:
 * Debian's `musl` package installs that loader on a glibc system.
 * process.report is Node's own answer and the fallback when /proc is hidden.
 */
export function detectLibc(): Libc | undefined {
  const fromMaps = libcFromMaps();
  if (fromMaps !== undefined) return fromMaps;
  const report = process.report as { getReport?: () => unknown } | undefined;
  try {
    const header = (report?.getReport?.() as { header?: { glibcVersionRuntime?: unknown } } | undefined)?.header;
    if (header !== undefined) return typeof header.glibcVersionRuntime === 'string' ? 'glibc' : 'musl';
  } catch {
    // Some runtimes stub process.report; the answer is then unknown, not an error.
  }
  return undefined;
}

function libcFromMaps(): Libc | undefined {
  let maps: string;
  try {
    maps = readFileSync('/proc/self/maps', 'latin1');
  } catch {
    return undefined;
  }
  // Alpine maps /lib/ld-musl-x86_64.so.1 (libc.musl-x86_64.so.1 links to it).
  if (/\/ld-musl-[^/\s]*\.so|\/libc\.musl-/.test(maps)) return 'musl';
  if (/\/libc\.so\.6\b|\/libc-2\.\d+\.so\b/.test(maps)) return 'glibc';
  return undefined;
}

/** The package (or checkout) root: the nearest folder up from here with a package.json. */
function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {  // bridge/ in a checkout, dist/bridge/ when built
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return undefined;
}

/** Where the prebuild for `libc` lives, whether or not it exists. */
export function prebuildPath(libc: Libc): string | undefined {
  const root = packageRoot();
  return root === undefined ? undefined : join(root, 'prebuilds', PREBUILD_PLATFORMS[libc], HELPER_FILE);
}

/** Where a node-gyp build of native/ puts the helper (checkout or installed package). */
export function sourceBuildPath(): string | undefined {
  const root = packageRoot();
  return root === undefined ? undefined : join(root, 'native', 'build', 'Release', HELPER_FILE);
}

export type HelperOrigin = 'env' | 'source-build' | 'prebuild';

export interface HelperLocation {
  path: string;
  origin: HelperOrigin;
}

function nativeError(message: string): ZerglingError {
  return new ZerglingError('ERR_ZERGLING_NATIVE', message);
}

/**
 * The helper this process should load. `extraSourceBuilds` are further
 * source-build locations to try first (native.ts passes its historical path).
 * Throws ERR_ZERGLING_NATIVE, saying what was looked for, when none exists.
 */
export function findNativeHelper(...extraSourceBuilds: string[]): HelperLocation {
  // ZERGLING_NATIVE_PATH is the older name of the override; tests still use it.
  const override = process.env.ZERGLING_NATIVE ?? process.env.ZERGLING_NATIVE_PATH;
  if (override !== undefined && override !== '') {
    if (!existsSync(override)) throw nativeError(`ZERGLING_NATIVE=${override}: no such file`);
    return { path: override, origin: 'env' };
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw nativeError(
      `the native io_uring backend needs Linux on x64 (this is ${process.platform}/${process.arch}); ` +
        'use the simulator backend instead (zergling/sim)');
  }
  const tried: string[] = [];
  const built = sourceBuildPath();
  for (const p of [...extraSourceBuilds, ...(built === undefined ? [] : [built])]) {
    if (existsSync(p)) return { path: p, origin: 'source-build' };
    tried.push(p);
  }
  const libc = detectLibc();
  if (libc !== undefined) {
    const p = prebuildPath(libc);
    if (p !== undefined) {
      if (existsSync(p)) return { path: p, origin: 'prebuild' };
      tried.push(p);
    }
  }
  throw nativeError(
    `no native helper fits this machine (C library: ${libc ?? 'not detected'}; looked for ${tried.join(', ')}). ` +
      'In a checkout, run `make native`; in an installed package, reinstall with a C++ compiler, make and ' +
      'liburing-dev present so the install script can build it (`npm rebuild zergling`), or set ' +
      'ZERGLING_NATIVE=/path/to/zergling_native.node');
}

/** The path only: what native.ts hands to require(). */
export function locateNativeHelper(...extraSourceBuilds: string[]): string {
  return findNativeHelper(...extraSourceBuilds).path;
}
