// HTTP/1.1 "Hello, World!" on io_uring, keep-alive and pipelining.
//   node --import tsx examples/http.ts [--port 8080] [--host 127.0.0.1]
// Requests are found by scanning each received chunk (a view over the receive
// slab, no copy) for "\r\n\r\n"; all the requests of one chunk are answered by
// one write of prebuilt responses. No per-request allocation.
import { parseArgs } from 'node:util';
import { listen, type Connection } from '../src/index.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});

const RESPONSE = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!', 'latin1');
const BATCH = 64;
const RESPONSES = new Uint8Array(RESPONSE.length * BATCH);
for (let i = 0; i < BATCH; i++) RESPONSES.set(RESPONSE, i * RESPONSE.length);
const CR = 13, LF = 10;

async function serve(conn: Connection): Promise<void> {
  let matched = 0; // bytes of "\r\n\r\n" matched at the end of what came so far
  for await (const bytes of conn) {
    let requests = 0;
    let m = matched;
    for (let i = 0, n = bytes.length; i < n; i++) {
      const b = bytes[i];
      if (b === LF) {
        if (m === 1) m = 2;
        else if (m === 3) { requests++; m = 0; } else m = 0;
      } else if (b === CR) {
        m = m === 2 ? 3 : 1;
      } else {
        m = 0;
      }
    }
    matched = m;
    let ok = true;
    while (requests > 0) {
      const k = requests < BATCH ? requests : BATCH;
      ok = conn.write(k === BATCH ? RESPONSES : RESPONSES.subarray(0, k * RESPONSE.length));
      requests -= k;
    }
    if (!ok) await conn.flush();
  }
}

const server = await listen({ port: Number(values.port), host: values.host, onConnection: serve });

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
