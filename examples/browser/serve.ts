// Builds the browser example and serves it on loopback.
//
// The page's TypeScript (main.ts → scenario.ts → bridge/component.ts,
// bridge/sim/, the jco glue) is bundled by esbuild (tsx's own dependency) into
// one ES module, for `platform: 'browser'`: a node: import anywhere on that
// path fails the bundle. The core modules are the files `make wasm` wrote to
// bridge/gen/reactor, served unchanged under reactor/.
//   node --import tsx examples/browser/serve.ts [--port 8000]   serve on 127.0.0.1
//   node --import tsx examples/browser/serve.ts --out DIR      write the files (make browser)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface BrowserFile {
  body: Uint8Array;
  type: string;
}

export interface BrowserBundle {
  /** Page path ('index.html', 'main.js', 'reactor/reactor.core.wasm', ...) → contents. */
  files: Map<string, BrowserFile>;
  /** Every source file esbuild put into main.js (repo-relative). */
  inputs: string[];
}

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REACTOR = fileURLToPath(new URL('../../bridge/gen/reactor/', import.meta.url));

export async function bundleBrowserExample(): Promise<BrowserBundle> {
  const out = await build({
    entryPoints: [join(HERE, 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: fileURLToPath(new URL('../../', import.meta.url)),
  });
  const js = out.outputFiles[0];
  if (js === undefined) throw new Error('esbuild produced no output');
  const files = new Map<string, BrowserFile>();
  files.set('index.html', { body: readFileSync(join(HERE, 'index.html')), type: 'text/html; charset=utf-8' });
  files.set('main.js', { body: js.contents, type: 'text/javascript; charset=utf-8' });
  for (const f of readdirSync(REACTOR).filter((x) => x.endsWith('.wasm'))) {
    files.set(`reactor/${f}`, { body: readFileSync(join(REACTOR, f)), type: 'application/wasm' });
  }
  return { files, inputs: Object.keys(out.metafile.inputs) };
}

export interface BrowserServer {
  url: string;
  bundle: BrowserBundle;
  /** Every path requested, in order (a test checks nothing else was fetched). */
  requests: string[];
  close(): Promise<void>;
}

/** Serves the bundle on `host` (loopback only) and `port` (0 picks a free one). */
export async function serveBrowserExample(port = 0, host = '127.0.0.1'): Promise<BrowserServer> {
  if (host !== '127.0.0.1' && host !== '::1' && host !== 'localhost') {
    throw Object.assign(new Error(`the example server binds loopback only, not ${host}`), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  const bundle = await bundleBrowserExample();
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(path);
    const f = bundle.files.get(path === '/' ? 'index.html' : path.slice(1));
    if (f === undefined || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': f.type, 'content-length': f.body.length, 'cache-control': 'no-store' }).end(f.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    url: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/`,
    bundle,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const outDir = opt('--out');
  if (outDir !== undefined) {
    const { files } = await bundleBrowserExample();
    for (const [p, f] of files) {
      mkdirSync(dirname(join(outDir, p)), { recursive: true });
      writeFileSync(join(outDir, p), f.body);
    }
    console.log(`wrote ${files.size} files to ${outDir}: serve the directory over HTTP and open index.html`);
  } else {
    const s = await serveBrowserExample(Number(opt('--port') ?? 8000));
    console.log(`serving the browser example on ${s.url} (Ctrl-C stops)`);
  }
}
