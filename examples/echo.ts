// TCP echo server on io_uring.
//   node --import tsx examples/echo.ts [--port 7000] [--host 127.0.0.1]
// Every received chunk is written straight back from the receive buffer it
// arrived in (zero copy: the core holds that buffer until the send completes).
import { parseArgs } from 'node:util';
import { listen } from '../src/index.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '7000' },
    host: { type: 'string', default: '127.0.0.1' },
    incremental: { type: 'boolean', default: false },
  },
});

const server = await listen({
  port: Number(values.port),
  host: values.host,
  reactor: { incremental: values.incremental },
  async onConnection(conn) {
    for await (const bytes of conn) {
      if (!conn.write(bytes)) await conn.flush();
    }
    // Returning closes the connection once everything is sent.
  },
});

const { address, port } = server.address();
console.log(`listening on ${address.includes(':') ? `[${address}]` : address}:${port}`);

const stop = (): void => {
  setTimeout(() => process.exit(1), 5000).unref(); // a last resort, never reached normally
  if (process.env.ZERGLING_STATS) console.error(JSON.stringify(server.stats()));
  server.close({ deadlineMs: 2000 }).then(() => { process.exitCode = 0; }, (err) => {
    console.error(err);
    process.exitCode = 1;
  });
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
