// `make test-package`: the npm package as a user gets it. Packs the tarball,
// installs it into an empty temp project offline (npm --offline with a fresh
// cache, inside a network namespace with no interfaces but its own loopback)
// and with no compiler on PATH, then runs an echo round trip through
// `import { listen } from 'zergling'` and a seeded simulator echo through
// `zergling/sim` under Node 20, 22, 24, Bun and Deno. Then the fallbacks: no
// prebuild and no compiler (install warns, listen() rejects with
// ERR_ZERGLING_NATIVE, the simulator still works), and the node-gyp source
// build when a compiler is there.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'zergling-pkg-'));
const app = join(tmp, 'app');
const bin = join(tmp, 'bin');
const installed = join(app, 'node_modules', 'zergling');

const RUNTIMES: Record<string, string[]> = {
  node20: [`${root}node_modules/node20/bin/node`],
  node22: [`${root}node_modules/node22/bin/node`],
  node24: [`${root}node_modules/node24/bin/node`],
  bun: [`${root}node_modules/.bin/bun`],
  deno: [`${root}node_modules/.bin/deno`, 'run', '-A'],
};
const COMPILERS = ['gcc', 'g++', 'cc', 'c++', 'clang', 'clang++', 'make', 'zig'];

function run(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}):
  SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeout ?? 120_000, cwd: opts.cwd ?? app, env: opts.env ?? process.env });
  if (r.error !== undefined) throw r.error;
  return r;
}
const show = (r: SpawnSyncReturns<string>): string => `exit ${r.status} ${r.signal ?? ''}\n${r.stdout}\n${r.stderr}`.slice(-4000);

/** PATH of the install and the runs: node, npm and a shell, nothing that compiles. */
const bareEnv = (): NodeJS.ProcessEnv => ({ HOME: tmp, PATH: bin, NO_COLOR: '1', npm_config_cache: join(tmp, 'npm-cache') });

/** No network at all: a fresh network namespace has only a loopback device (down). */
function offline(cmd: string, args: readonly string[]): [string, string[]] {
  return [which('unshare', process.env.PATH ?? '') ?? '/usr/bin/unshare', [...(process.getuid?.() === 0 ? [] : ['-r']), '-n', cmd, ...args]];
}

function npm(args: readonly string[], env: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  const [cmd, a] = offline(join(bin, 'npm'), ['--offline', '--no-audit', '--no-fund', '--foreground-scripts', ...args]);
  return run(cmd, a, { env });
}

function which(name: string, path: string): string | undefined {
  return path.split(delimiter).map((d) => join(d, name)).find((p) => existsSync(p));
}

interface EchoResult {
  runtime: string;
  native: { ok: boolean; bytes: number; kind: string; helper: string | undefined };
  sim: { seed: number; ok: boolean; closed: boolean; hash: string }[];
}
const results = new Map<string, EchoResult>();

function echoUnder(name: string, env: NodeJS.ProcessEnv = bareEnv()): EchoResult {
  const argv = RUNTIMES[name]!;
  const r = run(argv[0]!, [...argv.slice(1), 'echo.mjs'], { env, timeout: 60_000 });
  assert.is(r.status, 0, `${name}: ${show(r)}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as EchoResult;
}

let tarball = '';
let packInfo: { filename: string; size: number; unpackedSize: number; files: { path: string; size: number }[] } | undefined;

test.before(() => {
  mkdirSync(bin);
  mkdirSync(app);
  // npm's CLI is a node script (its bin is a symlink to npm-cli.js): run it with
  // the machine's node, the runtime the install script then runs under.
  const npmCli = realpathSync(which('npm', process.env.PATH ?? '') ?? '/usr/bin/npm');
  const node = realpathSync(which('node', process.env.PATH ?? '') ?? process.execPath);
  writeFileSync(join(bin, 'npm'), `#!/bin/sh\nexec ${node} ${npmCli} "$@"\n`, { mode: 0o755 });
  symlinkSync(node, join(bin, 'node'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
  symlinkSync('/usr/bin/env', join(bin, 'env'));
  const packed = run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: root });
  assert.is(packed.status, 0, show(packed));
  packInfo = (JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as NonNullable<typeof packInfo>[])[0];
  tarball = join(tmp, packInfo!.filename);
  writeFileSync(join(app, 'package.json'), JSON.stringify({
    name: 'app', private: true, type: 'module',
    // npm ≥ 11 runs a dependency's install script only when allowed: allow it, so
    // the test proves that the script does nothing when a prebuild fits.
    allowScripts: { zergling: true },
  }, null, 2));
  for (const f of ['echo.mjs', 'fail.mjs']) cpSync(join(fixtures, f), join(app, f));
});

test.after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

test('the tarball holds the JS, the types, the reactor component and both prebuilds; no tests, benches or broken core', () => {
  const files = packInfo!.files.map((f) => f.path);
  if (process.env.ZL_VERBOSE) {
    console.log(`${packInfo!.filename}: ${packInfo!.size} bytes packed, ${packInfo!.unpackedSize} unpacked, ${files.length} files`);
    for (const f of packInfo!.files) console.log(`  ${String(f.size).padStart(8)} ${f.path}`);
  }
  assert.match(packInfo!.filename, /^zergling-\d+\.\d+\.\d+\.tgz$/);
  for (const f of [
    'package.json', 'README.md', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cluster/index.js',
    'dist/src/cluster/worker.js', 'dist/src/http/index.js', 'dist/src/http/index.d.ts', 'dist/src/http/cluster-handler.js',
    'dist/bridge/sim/index.js', 'dist/bridge/sim/index.d.ts', 'dist/bridge/native-load.js',
    'dist/bridge/gen/reactor/reactor.js', 'dist/bridge/gen/reactor/reactor.core.wasm', 'dist/bridge/gen/types/reactor-core.d.ts',
    'prebuilds/linux-x64-glibc/zergling_native.node', 'prebuilds/linux-x64-musl/zergling_native.node',
    'native/binding.gyp', 'native/exports.map', 'scripts/install.mjs',
  ]) assert.ok(files.includes(f), `${f} is in the tarball`);
  const banned = /^(test|bench|wasm|examples|src|bridge|docs|build)\/|^dist\/(examples|native)\/|reactor-broken|\/probe\/|^native\/(tools|build)\/|\.ts$(?<!\.d\.ts)/;
  const bad = files.filter((f) => banned.test(f));
  assert.equal(bad, [], `not in the tarball: ${bad.join(', ')}`);
  // The C sources are there only for the node-gyp fallback: exactly what binding.gyp needs.
  const gyp = readFileSync(join(root, 'native/binding.gyp'), 'utf8');
  for (const f of files.filter((p) => p.startsWith('native/src/') && p.endsWith('.cc'))) {
    assert.ok(gyp.includes(f.slice('native/'.length)), `${f} is a binding.gyp source`);
  }
  assert.ok(packInfo!.size < 1_000_000, `tarball ${packInfo!.size} bytes`);
});

test('offline install with no compiler on PATH: the install script finds the prebuild and builds nothing', () => {
  for (const c of COMPILERS) assert.is(which(c, bin), undefined, `${c} is not on the test PATH`);
  const r = npm(['install', tarball], bareEnv());
  assert.is(r.status, 0, show(r));
  assert.match(r.stdout + r.stderr, /node scripts\/install\.mjs/, 'the install script ran');
  assert.not.match(r.stdout + r.stderr, /node-gyp|building native/, show(r));
  assert.ok(existsSync(join(installed, 'prebuilds/linux-x64-glibc/zergling_native.node')));
  assert.not.ok(existsSync(join(installed, 'native/build')), 'no source build');
});

for (const name of Object.keys(RUNTIMES)) {
  test(`${name}: echo through import { listen } from 'zergling' on io_uring, and the seeded sim echo from 'zergling/sim'`, () => {
    const res = echoUnder(name);
    results.set(name, res);
    if (process.env.ZL_VERBOSE) console.log(`${name}: ${JSON.stringify(res)}`);
    assert.ok(res.runtime.startsWith(name.startsWith('node') ? `node v${name.slice(4)}.` : name), res.runtime);
    assert.is(res.native.kind, 'native');
    assert.ok(res.native.ok, `${res.native.bytes} bytes came back intact`);
    assert.is(res.native.helper, join(installed, 'prebuilds/linux-x64-glibc/zergling_native.node'), 'the glibc prebuild is the mapped helper');
    assert.is(res.sim.length, 5);
    for (const s of res.sim) assert.ok(s.ok && s.closed, `sim seed ${s.seed}: echoed and closed`);
  });
}

test('the simulator gives the same trace hash for each seed under all five runtimes', () => {
  assert.is(results.size, Object.keys(RUNTIMES).length, 'every runtime ran');
  const ref = results.get('node20')!.sim.map((s) => s.hash);
  assert.is(new Set(ref).size, ref.length, 'different seeds, different hashes');
  for (const [name, r] of results) assert.equal(r.sim.map((s) => s.hash), ref, name);
});

test('the .d.ts files type-check through the exports map (zergling, zergling/sim, zergling/cluster, zergling/http)', () => {
  writeFileSync(join(app, 'check.ts'), [
    "import { listen, listenCluster, type Connection, type Server } from 'zergling';",
    "import { createSimBackend, type SimBackend } from 'zergling/sim';",
    "import { listen as clusterListen, type ClusterHandler } from 'zergling/cluster';",
    "import { serve, headerBlock, type FastHandler, type HttpServer } from 'zergling/http';",
    "const TEXT = headerBlock({ 'content-type': 'text/plain' });",
    "const fast: FastHandler = (req, res) => { res.headers(TEXT).end(req.pathIs('/') ? 'hi' : req.url); };",
    "const web: Promise<HttpServer> = serve({ backend: createSimBackend({ seed: 2 }), fetch: async (r: Request) => new Response(await r.text()) });",
    "// @ts-expect-error: a fetch handler returns a Response",
    "void serve({ fetch: () => 42 });",
    'const sim: SimBackend = createSimBackend({ seed: 1 });',
    'const server: Promise<Server> = listen({ backend: sim, onConnection: (c: Connection) => { c.write(new Uint8Array(1)); } });',
    'const handler: ClusterHandler = async (conn) => { for await (const b of conn) conn.write(b); };',
    '// @ts-expect-error: ports are numbers',
    "void listen({ port: '80' });",
    'void [server, handler, listenCluster, clusterListen, fast, web];',
  ].join('\n'));
  const r = run(`${root}node_modules/.bin/tsc`, ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--target', 'es2022', '--types', 'node', '--typeRoots', `${root}node_modules/@types`, 'check.ts']);
  assert.is(r.status, 0, show(r));
});

test('ZERGLING_NATIVE overrides the choice; a missing file is ERR_ZERGLING_NATIVE', () => {
  const r = run(RUNTIMES.node22![0]!, ['fail.mjs'], { env: { ...bareEnv(), ZERGLING_NATIVE: join(tmp, 'nope.node') } });
  assert.is(r.status, 0, show(r));
  const out = JSON.parse(r.stdout) as { error: { code: string; message: string; isError: boolean } | null; sim: string };
  assert.ok(out.error?.isError, show(r));
  assert.is(out.error?.code, 'ERR_ZERGLING_NATIVE');
  assert.match(out.error!.message, /nope\.node/);
  assert.is(out.sim, 'sim');
});

test('no prebuild fits and no compiler: install still succeeds, listen() rejects with ERR_ZERGLING_NATIVE, the simulator works', () => {
  const pre = join(installed, 'prebuilds');
  renameSync(pre, `${pre}.away`);
  try {
    const r = npm(['rebuild', 'zergling'], bareEnv());
    assert.is(r.status, 0, show(r));
    assert.match(r.stderr, /building native\/ with node-gyp/, show(r));
    assert.match(r.stderr, /the source build failed/, show(r));
    for (const name of ['node20', 'bun', 'deno']) {
      const argv = RUNTIMES[name]!;
      const f = run(argv[0]!, [...argv.slice(1), 'fail.mjs'], { env: bareEnv() });
      assert.is(f.status, 0, `${name}: ${show(f)}`);
      const out = JSON.parse(f.stdout.trim().split('\n').pop()!) as { error: { code: string; message: string } | null; sim: string };
      assert.is(out.error?.code, 'ERR_ZERGLING_NATIVE', `${name}: ${f.stdout}`);
      assert.match(out.error!.message, /no native helper fits this machine \(C library: glibc/, name);
      assert.is(out.sim, 'sim', name);
    }
  } finally {
    renameSync(`${pre}.away`, pre);
  }
});

test('no prebuild fits, a compiler is there: the install script builds native/ with node-gyp and that helper serves', () => {
  const pre = join(installed, 'prebuilds');
  renameSync(pre, `${pre}.away`);
  try {
    // The machine's PATH (g++, make), still offline: node-gyp uses the running
    // Node's own headers (--nodedir), it downloads nothing.
    const env = { ...bareEnv(), PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };
    const r = npm(['rebuild', 'zergling'], env);
    assert.is(r.status, 0, show(r));
    assert.match(r.stderr, /building native\/ with node-gyp/, show(r));
    assert.ok(existsSync(join(installed, 'native/build/Release/zergling_native.node')), show(r));
    const res = echoUnder('node20', env);
    assert.ok(res.native.ok);
    assert.is(res.native.helper, join(installed, 'native/build/Release/zergling_native.node'));
  } finally {
    renameSync(`${pre}.away`, pre);
    rmSync(join(installed, 'native/build'), { recursive: true, force: true });
  }
});

test.run();
