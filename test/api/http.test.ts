// Interop: a plain node:http handler served over zergling connections
// (`httpServer.emit('connection', conn.toDuplex())`), driven by http.get and by
// curl; and the examples/ servers as processes (http pipelining, echo, signals).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import {
  closeLeftovers, listen, assertNoLeaks, closedSocket, connect, deadline, procFds, pattern, readBytes, roundTrip, runtimeArgs,
} from './helpers.ts';

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d: string) => { body += d; });
  req.on('end', () => {
    const text = `${req.method} ${req.url} from ${req.socket.remoteAddress}` + (body ? ` body=${body}` : '');
    res.writeHead(200, { 'content-type': 'text/plain', 'x-served-by': 'zergling' });
    res.end(text);
  });
}

function get(port: number, path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

function post(port: number, path: string, body: string, agent: http.Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const curlFound = ['/usr/bin/curl', '/bin/curl', '/usr/local/bin/curl'].find((p) => existsSync(p));
/** curl is in APT_PKGS (make setup installs it): a missing curl fails, it is not a skip. */
function needCurl(): string {
  if (curlFound === undefined) throw new Error('curl is not installed (make setup installs it)');
  return curlFound;
}

test('node:http handler over conn.toDuplex(): http.get, keep-alive POSTs, curl', async () => {
  const fd0 = procFds();
  const httpServer = http.createServer(handler);
  const server = await listen({ port: 0, onConnection: (conn) => { httpServer.emit('connection', conn.toDuplex()); } });
  const port = server.address().port;

  const r = await deadline(get(port, '/hello?x=1'), 5000, 'http.get');
  assert.is(r.status, 200);
  assert.is(r.headers['x-served-by'], 'zergling');
  assert.is(r.body, 'GET /hello?x=1 from 127.0.0.1');

  // Several requests over one keep-alive connection, with bodies.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < 5; i++) {
    const text = await deadline(post(port, `/p${i}`, `payload-${i}`.repeat(100), agent), 5000, `POST ${i}`);
    assert.is(text, `POST /p${i} from 127.0.0.1 body=${`payload-${i}`.repeat(100)}`);
  }
  agent.destroy();

  {
    const curlPath = needCurl();
    const out = await deadline(new Promise<string>((resolve, reject) => {
      execFile(curlPath, ['-s', '-S', '--max-time', '5', '-i', `http://127.0.0.1:${port}/curl`],
        (err, stdout) => (err ? reject(err) : resolve(stdout)));
    }), 8000, 'curl');
    assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(out, /x-served-by: zergling/i);
    assert.ok(out.endsWith('GET /curl from 127.0.0.1'), `curl body: ${JSON.stringify(out.slice(-60))}`);
  }

  await server.close({ deadlineMs: 2000 });
  await new Promise((r) => httpServer.close(r));
  await assertNoLeaks(server, fd0);
});

test('toWeb(): a ReadableStream/WritableStream pair', async () => {
  const fd0 = procFds();
  const server = await listen({
    port: 0,
    async onConnection(conn) {
      const { readable, writable } = conn.toWeb();
      // Upper-cases everything through a TransformStream: Web streams end to end.
      await readable
        .pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) { controller.enqueue(Buffer.from(Buffer.from(chunk).toString('latin1').toUpperCase(), 'latin1')); },
        }))
        .pipeTo(writable);
    },
  });
  const s = await connect(server.address().port);
  const back = await deadline(roundTrip(s, Buffer.from('web streams work')), 3000, 'web echo');
  assert.is(back.toString(), 'WEB STREAMS WORK');
  const ended = new Promise<void>((r) => s.once('end', r));
  s.end();
  await deadline(ended, 3000, 'writable.close() ends our side');
  await closedSocket(s);
  await server.close();
  await assertNoLeaks(server, fd0);
});

// ---------------------------------------------------------------- examples as processes

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * By pid, not child.kill(): Deno's child_process then reports the exit as
 * (null, signal) even when the child's handler ran and it exited 0.
 */
function signal(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, sig);
}

async function startExample(file: string, args: string[] = []): Promise<{ child: ChildProcess; port: number; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [...runtimeArgs(file), '--port', '0', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const port = await deadline(new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+):(\d+)/.exec(out);
      if (m) resolve(Number(m[2]));
    });
    void exited.then((code) => reject(new Error(`${file} exited ${code}: ${err}`)));
  }), 15000, `${file} prints "listening on"`);
  return { child, port, exited };
}

/** Responses in `raw` as [status, headers, body] (Content-Length or chunked framing; HEAD: `headAt`). */
function responses(raw: string, headAt: number[] = []): { status: number; head: string; body: string }[] {
  const out: { status: number; head: string; body: string }[] = [];
  let p = 0;
  while (p < raw.length) {
    const e = raw.indexOf('\r\n\r\n', p);
    if (e < 0) break;
    const head = raw.slice(p, e);
    let q = e + 4;
    let body = '';
    const cl = /\r\ncontent-length: (\d+)/i.exec(head);
    if (headAt.includes(out.length)) { /* no body */ } else if (cl) {
      if (raw.length < q + Number(cl[1])) break; // not all here yet
      body = raw.slice(q, q + Number(cl[1]));
      q += Number(cl[1]);
    } else if (/transfer-encoding: chunked/i.test(head)) {
      for (;;) {
        const le = raw.indexOf('\r\n', q);
        if (le < 0) return out;
        const n = parseInt(raw.slice(q, le), 16);
        if (!(n >= 0) || raw.length < le + 2 + n + 2) return out;
        body += raw.slice(le + 2, le + 2 + n);
        q = le + 2 + n + 2;
        if (n === 0) break;
      }
    }
    out.push({ status: Number(head.slice(9, 12)), head, body });
    p = q;
  }
  return out;
}

for (const api of ['fast', 'fetch', 'fetch-global'] as const) {
  test(`examples/http.ts --api ${api}: routes, HEAD, keep-alive, 16 pipelined in order, split request, clean exit on SIGTERM`, async () => {
    const { child, port, exited } = await startExample('examples/http.ts', ['--api', api]);
    try {
      const s = await connect(port);
      const req = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
      const readAll = async (n: number, send: string, headAt: number[] = []): Promise<ReturnType<typeof responses>> => {
        let raw = '';
        const onData = (d: Buffer): void => { raw += d.toString('latin1'); };
        s.on('data', onData);
        s.write(Buffer.from(send, 'latin1'));
        await deadline((async () => { while (responses(raw, headAt).length < n) await new Promise((r) => setTimeout(r, 5)); })(), 3000, `${n} responses`);
        s.off('data', onData);
        return responses(raw, headAt);
      };
      const [one] = await readAll(1, req);
      assert.is(one!.status, 200);
      assert.is(one!.body, 'Hello, World!');
      assert.match(one!.head, /\r\ncontent-type: text\/plain/i);
      assert.match(one!.head, /\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT/);
      const many = await readAll(16, req.repeat(16));
      assert.equal(many.map((r) => r.body), Array(16).fill('Hello, World!'));
      const head = await readAll(2, `HEAD / HTTP/1.1\r\nHost: x\r\n\r\n${req}`, [0]);
      assert.is(head[0]!.body, '');
      assert.match(head[0]!.head, /content-length: 13/i);
      assert.is(head[1]!.body, 'Hello, World!', 'the response after a HEAD is intact');
      const streamed = await readAll(1, 'GET /stream HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.match(streamed[0]!.head, /transfer-encoding: chunked/i);
      assert.is(streamed[0]!.body, [1, 2, 3, 4, 5].map((i) => `line ${i} of 5\n`).join(''));
      const body = JSON.stringify({ a: [1, 2], b: 'ü' });
      const echoed = await readAll(1, `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${Buffer.from(body).toString('latin1')}`);
      assert.equal(JSON.parse(Buffer.from(echoed[0]!.body, 'latin1').toString()), { received: { a: [1, 2], b: 'ü' }, bytes: Buffer.byteLength(body) });
      const nf = await readAll(1, 'GET /nope HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.is(nf[0]!.status, 404);
      // A request split across writes (and TCP segments) still counts once.
      let raw = '';
      s.on('data', (d: Buffer) => { raw += d.toString('latin1'); });
      s.write('GET / HTTP/1.1\r\nHo');
      await new Promise((r) => setTimeout(r, 20));
      s.write('st: x\r\n\r');
      await new Promise((r) => setTimeout(r, 20));
      s.write('\n');
      await deadline((async () => { while (responses(raw).length < 1) await new Promise((r) => setTimeout(r, 5)); })(), 3000, 'split request');
      assert.is(responses(raw)[0]!.body, 'Hello, World!');
      s.end();
      await closedSocket(s);
      {
        const curlPath = needCurl();
        const out = await new Promise<string>((resolve, reject) => {
          execFile(curlPath, ['-s', '--max-time', '5', `http://127.0.0.1:${port}/`], (e, so) => (e ? reject(e) : resolve(so)));
        });
        assert.is(out, 'Hello, World!');
        const headOut = await new Promise<string>((resolve, reject) => {
          execFile(curlPath, ['-s', '-I', '--max-time', '5', `http://127.0.0.1:${port}/`], (e, so) => (e ? reject(e) : resolve(so)));
        });
        assert.match(headOut, /^HTTP\/1\.1 200 OK\r\n/);
      }
    } finally {
      signal(child, 'SIGTERM');
    }
    assert.is(await deadline(exited, 8000, 'http example exits on SIGTERM'), 0);
  });
}

for (const api of ['fast', 'fetch', 'fetch-global'] as const) {
  test(`examples/http.ts --api ${api} --app hello (what make bench runs): one response on every path, no routing`, async () => {
    const { child, port, exited } = await startExample('examples/http.ts', ['--api', api, '--app', 'hello']);
    try {
      const s = await connect(port);
      let raw = '';
      s.on('data', (d: Buffer) => { raw += d.toString('latin1'); });
      s.write(['/', '/stream', '/nope'].map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`).join(''));
      await deadline((async () => { while (responses(raw).length < 3) await new Promise((r) => setTimeout(r, 5)); })(), 3000, '3 responses');
      const rs = responses(raw);
      assert.equal(rs.map((r) => [r.status, r.body]), Array(3).fill([200, 'Hello, World!']));
      for (const r of rs) assert.match(r.head, /\r\ncontent-type: text\/plain\r\n/i);
      s.end();
      await closedSocket(s);
    } finally {
      signal(child, 'SIGTERM');
    }
    assert.is(await deadline(exited, 8000, 'http example exits on SIGTERM'), 0);
  });
}

for (const read of ['receive', 'iterator']) {
  test(`examples/echo.ts --read ${read}: echoes 1 MiB, closes after the peer's FIN, exits cleanly on SIGINT`, async () => {
    const { child, port, exited } = await startExample('examples/echo.ts', ['--read', read]);
    try {
      const s = await connect(port);
      const back = await deadline(roundTrip(s, Buffer.from('echo example')), 3000, 'echo');
      assert.is(back.toString(), 'echo example');
      const big = pattern(1 << 20, 7);
      const got = deadline(readBytes(s, big.length), 10_000, '1 MiB echo');
      s.write(big);
      assert.ok((await got).equals(big), 'every byte back, in order');
      s.end();
      await closedSocket(s);
    } finally {
      signal(child, 'SIGINT');
    }
    assert.is(await deadline(exited, 8000, 'echo example exits on SIGINT'), 0);
  });
}

test.after.each(closeLeftovers);
test.run();
