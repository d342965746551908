// TCP echo server on io_uring.
//   node --import tsx examples/echo.ts [--port 7000] [--host 127.0.0.1] [--read receive|iterator] [--reactors N]
// Every received chunk is written straight back from the receive buffer it
// arrived in (zero copy: the core holds that buffer until the send completes).
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { listen, listenCluster } from '../src/index.ts';

// Memory, not speed: V8 doubles its young generation (up to 2 x 16 MiB) when
// much of what it allocates survives, as every connection's state does while
// thousands of connections arrive, and keeps it resident long after. A server
// holding many connections does better with the young generation it started
// with: with 10,000 idle connections the server's RSS grows by ~1.3 KiB per
// connection (peak 70 MB) instead of 1.1-2.2 KiB, depending on when V8 gives
// the grown young generation back (peak 80 MB); a busy echo allocates only
// short-lived objects, which a small young generation collects just as cheaply. (A V8 flag, so it is set by the app, never by the
// library; runtimes without it ignore it.)
try { setFlagsFromString('--semi-space-growth-factor=1'); } catch { /* not V8 */ }

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '7000' },
    host: { type: 'string', default: '127.0.0.1' },
    incremental: { type: 'boolean', default: false },
    // --read receive|iterator: push-style conn.receive() (default) or for-await (one reactor).
    read: { type: 'string', default: 'receive' },
    // --recv-buffer-size N: bytes per provided receive buffer (default 32768).
    'recv-buffer-size': { type: 'string' },
    // --reactors N: N worker threads, each with its own ring (src/cluster).
    reactors: { type: 'string' },
    distribution: { type: 'string', default: 'acceptor' },
  },
});

if (values.read !== 'receive' && values.read !== 'iterator') {
  console.error(`--read must be receive or iterator, not ${values.read}`);
  process.exit(2);
}

const reactor = {
  incremental: values.incremental,
  ...(values['recv-buffer-size'] !== undefined ? { recvBufferSize: Number(values['recv-buffer-size']) } : {}),
};

// The handler module every reactor thread imports (.ts under tsx, .js when built).
const handler = new URL(`./echo-handler${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
const server = values.reactors !== undefined ? await listenCluster({
  port: Number(values.port),
  host: values.host,
  reactors: Number(values.reactors),
  distribution: values.distribution as 'acceptor' | 'reuseport',
  reactor,
  handler,
}) : await listen({
  port: Number(values.port),
  host: values.host,
  reactor,
  // Returning the promise closes the connection once the peer is done and everything is sent.
  onConnection: values.read === 'iterator'
    ? async (conn) => {
      for await (const bytes of conn) {
        if (!conn.write(bytes)) await conn.flush();
      }
    }
    // Each chunk is valid until the handler returns; a received view is sent without a copy.
    : (conn) => conn.receive((bytes) => (conn.write(bytes) ? undefined : conn.flush())),
});

const { address, port } = server.address();
console.log(`listening on ${address.includes(':') ? `[${address}]` : address}:${port}`);

const stop = async (): Promise<void> => {
  setTimeout(() => process.exit(1), 5000).unref(); // a last resort, never reached normally
  if (process.env.ZERGLING_STATS) console.error(JSON.stringify(await server.stats(), (_k, v: unknown) => typeof v === 'bigint' ? Number(v) : v));
  server.close({ deadlineMs: 2000 }).then(() => { process.exitCode = 0; }, (err) => {
    console.error(err);
    process.exitCode = 1;
  });
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
