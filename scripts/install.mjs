// npm's install hook for an installed zergling. The prebuilt helpers
// (prebuilds/linux-x64-glibc, prebuilds/linux-x64-musl) serve Node 20/22/24,
// Bun and Deno, so normally this loads the one that fits and does nothing
// else. Only when none fits (another C library, a too-old glibc) does it
// build native/ with node-gyp. It never fails the install: the simulator
// backend needs no helper, and listen() then rejects with
// ERR_ZERGLING_NATIVE saying what is missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const log = (msg) => console.error(`zergling: ${msg}`);

function loads(path) {
  try {
    const m = createRequire(import.meta.url)(path);
    return typeof m.createRing === 'function';
  } catch (e) {
    log(`${path} does not load here: ${e.message}`);
    return false;
  }
}

function main() {
  // A source checkout builds everything with make; dist/ may not exist yet.
  if (existsSync(new URL('../wasm/src', import.meta.url))) return;
  if (process.platform !== 'linux' || process.arch !== 'x64') return;  // simulator only
  return import('../dist/bridge/native-load.js').then(({ detectLibc, prebuildPath, sourceBuildPath }) => {
    const libc = detectLibc();
    const prebuild = libc === undefined ? undefined : prebuildPath(libc);
    if (prebuild !== undefined && existsSync(prebuild) && loads(prebuild)) return;
    const built = sourceBuildPath();
    if (built !== undefined && existsSync(built) && loads(built)) return;
    log(`no prebuilt helper fits (C library: ${libc ?? 'not detected'}); building native/ with node-gyp`);
    // npm hands its bundled node-gyp to scripts in npm_config_node_gyp.
    const gyp = process.env.npm_config_node_gyp;
    const [cmd, args] = gyp ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']];
    // The running Node's own headers when it has them (Debian's nodejs, nodejs.org
    // tarballs): otherwise node-gyp would download them.
    const prefix = dirname(dirname(process.execPath));
    if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
    const r = spawnSync(cmd, args, { cwd: `${root}native`, stdio: 'inherit' });
    if (r.status !== 0) {
      log('the source build failed (it needs a C++ compiler, make, liburing-dev and the Node headers). ' +
        'The simulator backend (zergling/sim) works without it; listen() will reject with ERR_ZERGLING_NATIVE.');
    }
  });
}

await main();
