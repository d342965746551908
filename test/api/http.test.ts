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
  closeLeftovers, listen, assertNoLeaks, closedSocket, connect, deadline, procFds, readBytes, roundTrip, runtimeArgs,
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

// A third-party client is the point of these parts, so a missing curl fails
// (as a missing Chromium does in test/browser) instead of passing without it.
const curlPath = ['/usr/bin/curl', '/bin/curl', '/usr/local/bin/curl'].find((p) => existsSync(p));
function needCurl(): string {
  assert.ok(curlPath, 'curl is missing: run make setup (APT_PKGS has curl)');
  return curlPath!;
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

  const curl = needCurl();
  const out = await deadline(new Promise<string>((resolve, reject) => {
    execFile(curl, ['-s', '-S', '--max-time', '5', '-i', `http://127.0.0.1:${port}/curl`],
      (err, stdout) => (err ? reject(err) : resolve(stdout)));
  }), 8000, 'curl');
  assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(out, /x-served-by: zergling/i);
  assert.ok(out.endsWith('GET /curl from 127.0.0.1'), `curl body: ${JSON.stringify(out.slice(-60))}`);

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

async function startExample(file: string): Promise<{ child: ChildProcess; port: number; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [...runtimeArgs(file), '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
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

test('examples/http.ts: keep-alive, 16 pipelined requests answered in order, clean exit on SIGTERM', async () => {
  const { child, port, exited } = await startExample('examples/http.ts');
  try {
    const s = await connect(port);
    const req = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
    const resp = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!';
    const one = await deadline(roundTrip(s, Buffer.from(req)).then((b) => b.toString()), 3000, 'one request');
    assert.is(one, resp);
    const p = readBytes(s, resp.length * 16);
    s.write(req.repeat(16));
    assert.is((await deadline(p, 3000, '16 pipelined')).toString(), resp.repeat(16));
    // A request split across writes (and TCP segments) still counts once.
    const q = readBytes(s, resp.length);
    s.write('GET / HTTP/1.1\r\nHo');
    await new Promise((r) => setTimeout(r, 20));
    s.write('st: x\r\n\r');
    await new Promise((r) => setTimeout(r, 20));
    s.write('\n');
    assert.is((await deadline(q, 3000, 'split request')).toString(), resp);
    s.end();
    await closedSocket(s);
    const curl = needCurl();
    const out = await new Promise<string>((resolve, reject) => {
      execFile(curl, ['-s', '--max-time', '5', `http://127.0.0.1:${port}/`], (e, so) => (e ? reject(e) : resolve(so)));
    });
    assert.is(out, 'Hello, World!');
  } finally {
    signal(child, 'SIGTERM');
  }
  assert.is(await deadline(exited, 8000, 'http example exits on SIGTERM'), 0);
});

test('examples/echo.ts: echoes and exits cleanly on SIGINT', async () => {
  const { child, port, exited } = await startExample('examples/echo.ts');
  try {
    const s = await connect(port);
    const back = await deadline(roundTrip(s, Buffer.from('echo example')), 3000, 'echo');
    assert.is(back.toString(), 'echo example');
    s.end();
    await closedSocket(s);
  } finally {
    signal(child, 'SIGINT');
  }
  assert.is(await deadline(exited, 8000, 'echo example exits on SIGINT'), 0);
});

test.after.each(closeLeftovers);
test.run();
