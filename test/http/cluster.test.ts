// serve({ reactors, module }) on real io_uring: every reactor thread imports
// the app module and serves HTTP; requests over many connections reach more
// than one reactor (acceptor round-robin) and close() leaves nothing open.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import { serve } from '../../src/http/index.ts';

function request(port: number, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: body === undefined ? 'GET' : 'POST', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

test('serve({ reactors: 2, module }): both reactors answer, bodies arrive, close() is clean', async () => {
  const server = await serve({ port: 0, reactors: 2, module: new URL('./app-module.ts', import.meta.url), moduleOptions: { tag: 'T' } });
  try {
    const port = server.address().port;
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const r = await request(port, `/n${i}`);
      assert.is(r.status, 200);
      const m = /^T reactor (\d) GET \/n(\d)$/.exec(r.text);
      assert.ok(m !== null && Number(m[2]) === i, r.text);
      seen.add(m![1]!);
    }
    assert.is(seen.size, 2, `reactors that answered: ${[...seen].join(',')}`);
    const e = await request(port, '/echo', 'payload');
    assert.equal(e, { status: 200, text: 'T:payload' });
  } finally {
    await server.close();
  }
});

test('reactors without a module is a TypeError', async () => {
  try {
    await serve({ port: 0, reactors: 2 });
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.is((err as { code?: string }).code, 'ERR_INVALID_ARG_TYPE');
  }
});

test.run();
