// The HTTP/1.1 demo on io_uring (`make run`): zergling/http's serve() with
// the routes of http-app.ts.
//   node --import tsx examples/http.ts [--port 8080] [--host 127.0.0.1]
//        [--api fast|fetch|fetch-global|node] [--app demo|hello] [--reactors N]
// --api fast (default): the zero-copy handler; fetch: Web Request/Response (zergling/http's
// Response); fetch-global: the same with the runtime's global Response;
// node: node:http's own server over zergling connections (conn.toDuplex()).
// --app demo (default): the routes above; hello: one response and no routing,
// as the bench's peers do (what `make bench` runs; --api node is always hello).
// --reactors N runs N reactor threads (the cluster), each importing http-app.ts.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { listen } from '../src/index.ts';
import { serve } from '../src/http/index.ts';
import { pick } from './http-app.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    api: { type: 'string', default: 'fast' },
    app: { type: 'string', default: 'demo' },
    reactors: { type: 'string' },
  },
});
const port = Number(values.port);
const host = values.host;
const api = values.api;
if (api !== 'fast' && api !== 'fetch' && api !== 'fetch-global' && api !== 'node') {
  throw new Error(`--api must be fast, fetch, fetch-global or node (got ${api})`);
}
const app = values.app;
if (app !== 'demo' && app !== 'hello') throw new Error(`--app must be demo or hello (got ${app})`);

let close: (opts: { deadlineMs: number }) => Promise<void>;
let address: { address: string; port: number };
let stats: () => unknown;
if (values.reactors !== undefined) {
  if (api === 'node') throw new Error('--api node has no --reactors');
  const ext = extname(fileURLToPath(import.meta.url));
  const s = await serve({
    port, host, reactors: Number(values.reactors),
    module: new URL(`./http-app${ext}`, import.meta.url), moduleOptions: { api, app },
  });
  s.on('error', (err) => console.error(`reactor ${err.reactor}:`, err));
  close = (o) => s.close(o);
  address = s.address();
  stats = () => null;
} else if (api === 'node') {
  const { createServer } = await import('node:http'); // only here: it costs the other APIs ~2 MiB of RSS
  const httpServer = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 13 });
    res.end('Hello, World!');
  });
  const s = await listen({ port, host, onConnection: (conn) => { httpServer.emit('connection', conn.toDuplex()); } });
  close = (o) => s.close(o);
  address = s.address();
  stats = () => s.stats();
} else {
  const s = await serve({ port, host, ...pick(api, app) });
  close = (o) => s.close(o);
  address = s.address();
  stats = () => s.stats();
}

console.log(`listening on ${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port} (api ${api}, app ${api === 'node' ? 'hello' : app})`);

const stop = (): void => {
  setTimeout(() => process.exit(1), 5000).unref(); // a last resort, never reached normally
  if (process.env.ZERGLING_STATS) console.error(JSON.stringify(stats()));
  close({ deadlineMs: 2000 }).then(() => { process.exitCode = 0; }, (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
