// `Response` from 'zergling/http': lazy where the runtime lets a look-alike pass
// for a Response (Node), the runtime's own elsewhere. Either way what the app
// observes, and what the server writes, must be what the global Response gives.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSimBackend } from '../../bridge/sim/index.ts';
import { Response as Lite, lazyResponses, serve } from '../../src/http/index.ts';
import { LazyResponse } from '../../src/http/web-response.ts';

const GlobalResponse = globalThis.Response;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

type Args = [BodyInit | null | undefined, ResponseInit | undefined];
const stream = (): ReadableStream<Uint8Array> =>
  new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('streamed')); c.close(); } });
const CASES: Array<[string, () => Args]> = [
  ['string', () => ['Hello', undefined]],
  ['string + record headers', () => ['Hello', { headers: { 'Content-Type': 'text/html', 'X-A': ' padded ' } }]],
  ['string + pair headers', () => ['Hello', { headers: [['x-a', '1'], ['X-A', '2'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']] }]],
  ['string + Headers', () => ['Hello', { headers: new Headers({ 'x-h': 'v' }) }]],
  ['bytes', () => [new Uint8Array([104, 105]), undefined]],
  ['ArrayBuffer', () => [new Uint8Array([1, 2, 3]).buffer, { status: 201 }]],
  ['null', () => [null, { status: 404, statusText: 'Nope' }]],
  ['undefined', () => [undefined, undefined]],
  ['204, no body', () => [null, { status: 204 }]],
  ['204 with a body', () => ['x', { status: 204 }]],
  ['status 600', () => ['x', { status: 600 }]],
  ['status 199', () => ['x', { status: 199 }]],
  ['status 1.5', () => ['x', { status: 200.5 }]],
  ['bad statusText', () => ['x', { statusText: 'a\r\nb' }]],
  ['bad header name', () => ['x', { headers: { 'a b': '1' } }]],
  ['bad header value', () => ['x', { headers: { a: '1\r\nb: 2' } }]],
  ['stream', () => [stream(), { headers: { 'x-s': '1' } }]],
  ['URLSearchParams', () => [new URLSearchParams('a=1&b=2'), undefined]],
  ['Blob', () => [new Blob(['blob'], { type: 'text/x-blob' }), undefined]],
];

async function observe(make: () => Response): Promise<unknown> {
  let r: Response;
  try {
    r = make();
  } catch (e) {
    return { throws: (e as Error).name };
  }
  // Headers validation happens at once in a real Response; a lazy one defers it to the first read.
  let headers: Array<[string, string]>;
  try {
    headers = [...(r.headers as unknown as Iterable<[string, string]>)];
  } catch (e) {
    return { throws: (e as Error).name };
  }
  return {
    instance: r instanceof GlobalResponse, tag: Object.prototype.toString.call(r),
    status: r.status, statusText: r.statusText, ok: r.ok, type: r.type, url: r.url, redirected: r.redirected,
    headers, usedBefore: r.bodyUsed, text: await r.text(), usedAfter: r.bodyUsed,
    again: await r.text().then(() => 'read again', (e: Error) => e.name),
  };
}

test('the export is lazy on Node, the runtime\'s Response on Bun and Deno', () => {
  const v = process.versions as Record<string, string | undefined>;
  const native = v.bun !== undefined || v.deno !== undefined;
  assert.is(lazyResponses, !native);
  assert.is(Lite === GlobalResponse, native);
});

for (const [name, args] of CASES) {
  test(`as the global Response: ${name}`, async () => {
    const want = await observe(() => new GlobalResponse(...args()));
    const got = await observe(() => new Lite(...args()));
    assert.equal(got, want);
  });
}

test('Response.json, redirect, error; clone(), blob(), arrayBuffer(), body as a stream', async () => {
  const j = Lite.json({ a: [1, 2] }, { status: 201, headers: { 'x-j': '1' } });
  const jr = GlobalResponse.json({ a: [1, 2] }, { status: 201, headers: { 'x-j': '1' } });
  const all = (h: Headers): Array<[string, string]> => [...(h as unknown as Iterable<[string, string]>)];
  assert.equal(all(j.headers), all(jr.headers));
  assert.is(j.status, 201);
  assert.equal(await j.clone().json(), { a: [1, 2] });
  assert.equal(await j.json(), { a: [1, 2] });
  assert.throws(() => Lite.json(undefined), TypeError);
  assert.is(Lite.redirect('http://x.test/', 307).headers.get('location'), 'http://x.test/');
  assert.is(Lite.error().type, 'error');
  assert.is(await (await new Lite('blob me').blob()).text(), 'blob me');
  assert.equal([...new Uint8Array(await new Lite('ab').arrayBuffer())], [97, 98]);
  let s = '';
  for await (const b of new Lite('as a stream').body! as unknown as AsyncIterable<Uint8Array>) s += Buffer.from(b).toString();
  assert.is(s, 'as a stream');
  const used = new Lite('once');
  await used.text();
  assert.is(used.bodyUsed, true);
  assert.throws(() => used.clone(), TypeError, 'a used body cannot be cloned (as with the global one)');
  // Bytes changed after the Response was made: what the app then reads is what the global one shows (a copy in Node, not in Bun).
  const read = async (R: typeof Response): Promise<number[]> => {
    const src = new Uint8Array([1, 2]);
    const r = new R(src);
    src[0] = 9;
    return [...new Uint8Array(await r.arrayBuffer())];
  };
  assert.equal(await read(Lite), await read(GlobalResponse));
});

/** Every response the server writes for `paths`, with the Date line taken out. */
async function served(R: typeof Response, seed: number): Promise<string> {
  const sim = createSimBackend({ seed });
  const server = await serve({
    backend: sim, port: 80,
    onError: () => { /* the bad-header case is reported here; the client sees a 500 */ },
    fetch: async (request) => {
      const path = new URL(request.url).pathname;
      if (path === '/plain') return new R('plain');
      if (path === '/typed') return new R('<p>', { headers: { 'content-type': 'text/html', 'x-a': '1' } });
      if (path === '/json') return R.json({ ok: true });
      if (path === '/bytes') return new R(new Uint8Array([65, 66]), { status: 201, headers: [['x-b', '2']] });
      if (path === '/empty') return new R(null, { status: 204 });
      if (path === '/changed') { const r = new R('changed', { headers: { 'x-a': '1' } }); r.headers.set('x-a', '2'); r.headers.append('x-c', '3'); return r; }
      if (path === '/stream') return new R(stream(), { headers: { 'content-type': 'text/plain' } });
      if (path === '/mutated') {
        // The init is taken at construction: changes made to it afterwards do not reach the response.
        const o: Record<string, string> = { 'x-m': 'before' };
        const h = new Headers({ 'x-h': 'before' });
        const pairs: [string, string][] = [['x-p', 'before']];
        const r = new R('m', { headers: o });
        const r2 = new R('m', { headers: h });
        const r3 = new R('m', { headers: pairs });
        o['x-m'] = 'after'; h.set('x-h', 'after'); pairs[0]![1] = 'after';
        return new R(`${r.headers.get('x-m')} ${r2.headers.get('x-h')} ${r3.headers.get('x-p')}`, { headers: o });
      }
      if (path === '/skip') return new R('own framing', { headers: { 'content-length': '99', connection: 'close', date: 'never' } });
      if (path === '/bad') return new R('x', { headers: { 'bad name': '1' } });
      return new R('not found', { status: 404 });
    },
  });
  const c = sim.client();
  const parts: Buffer[] = [];
  c.onData = (b) => { parts.push(Buffer.from(b)); };
  c.connect(80);
  const paths = ['/plain', '/typed', '/json', '/bytes', '/empty', '/changed', '/mutated', '/stream', '/skip', '/nope'];
  c.write(Buffer.from(paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: t\r\n\r\n`).join('') +
    'HEAD /typed HTTP/1.1\r\nHost: t\r\n\r\nGET /bad HTTP/1.1\r\nHost: t\r\n\r\n'));
  await sim.runUntil(() => (Buffer.concat(parts).toString('latin1').match(/HTTP\/1\.1 /g) ?? []).length === paths.length + 2);
  await sim.runUntil(() => /HTTP\/1\.1 500[^]*\r\n\r\n/.test(Buffer.concat(parts).toString('latin1')));
  c.close();
  await sim.runUntil(server.close());
  return Buffer.concat(parts).toString('latin1').replace(/\r\ndate: [^\r]*/gi, '');
}

test('served: the same bytes on the wire as with the global Response (HEAD, 204, changed headers, streams, skipped fields, a bad header)', async () => {
  const want = await served(GlobalResponse, 11);
  const got = await served(Lite, 11);
  assert.is(got, want);
  assert.match(got, /HTTP\/1\.1 500/, 'the bad header name is a 500');
  assert.match(got, /x-m: after\r\n[^]*\r\n\r\nbefore before before/, 'inits are taken when the Response is made');
  // Bun's own Response adds its content-type only in Bun.serve, so over zergling it has none.
  if (lazyResponses) assert.match(got, /content-type: text\/plain;charset=utf-8\r\n/i, 'a string body gets the default content-type');
});

test('served from its parts: no real Response is built for a plain body, even with its headers read or changed', async () => {
  if (!lazyResponses) return;
  const sim = createSimBackend({ seed: 3 });
  let n = 0;
  const server = await serve({
    backend: sim, port: 80,
    fetch: () => {
      const r = new Lite('x', { headers: { 'x-a': '1' } });
      if (n++ % 2 === 1) r.headers.set('x-b', r.headers.get('content-type') ?? '');
      return r;
    },
  });
  const c = sim.client();
  let got = '';
  c.onData = (b) => { got += Buffer.from(b).toString('latin1'); };
  c.connect(80);
  const before = LazyResponse.built;
  c.write(Buffer.from('GET / HTTP/1.1\r\nHost: t\r\n\r\n'.repeat(20)));
  await sim.runUntil(() => (got.match(/HTTP\/1\.1 200/g) ?? []).length === 20);
  assert.is(LazyResponse.built - before, 0, 'no real Response built');
  assert.is((got.match(/x-b: text\/plain;charset=UTF-8\r\n/g) ?? []).length, 10, 'changed headers are written');
  c.close();
  await sim.runUntil(server.close());
  const r = new Lite('y');
  void r.body;
  assert.is(LazyResponse.built - before, 1, 'asking for the stream builds it');
});

test('served: header inits seen before are copied, changed ones are not (values, order, pairs, more sets than the cache keeps)', async () => {
  const sim = createSimBackend({ seed: 9 });
  let i = 0;
  const server = await serve({
    backend: sim, port: 80,
    fetch: () => {
      const n = i++;
      const k = n % 3;
      if (k === 0) return new Lite('a', { headers: { 'x-n': String(n % 40), 'x-k': 'zero' } });
      if (k === 1) return new Lite('b', { headers: [['x-k', 'one'], ['x-n', String(n % 40)]] });
      return new Lite('c', { headers: { 'x-k': 'two', 'x-n': String(n % 40) } });
    },
  });
  const c = sim.client();
  let got = '';
  c.onData = (b) => { got += Buffer.from(b).toString('latin1'); };
  c.connect(80);
  const N = 200;
  c.write(Buffer.from('GET / HTTP/1.1\r\nHost: t\r\n\r\n'.repeat(N)));
  await sim.runUntil(() => (got.match(/HTTP\/1\.1 200/g) ?? []).length === N);
  const heads = got.split('HTTP/1.1 200 OK\r\n').slice(1);
  assert.is(heads.length, N);
  heads.forEach((h, n) => {
    const k = ['zero', 'one', 'two'][n % 3];
    assert.match(h, new RegExp(`x-n: ${n % 40}\r\n`), `response ${n}: x-n`);
    assert.match(h, new RegExp(`x-k: ${k}\r\n`), `response ${n}: x-k`);
    assert.is((h.match(/x-n: /g) ?? []).length, 1, `response ${n}: one x-n`);
  });
  c.close();
  await sim.runUntil(server.close());
});

// In a child process: the parent has read the global Response already.
function child(code: string): string {
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code],
    { cwd: ROOT, encoding: 'utf8', timeout: 30_000 }).trim();
}

test('importing zergling/http reads no global Response (Node loads undici for that); the first Response made does', () => {
  if (process.versions.bun !== undefined || 'Deno' in globalThis) return; // native Response: nothing to defer
  const out = child(`
    const undici = () => process.moduleLoadList.some((m) => m.includes('undici'));
    const { Response, lazyResponses } = await import('./src/http/index.ts');
    const atImport = undici();
    const r = new Response('hi');
    console.log(JSON.stringify([atImport, undici(), lazyResponses, r instanceof globalThis.Response, await r.text()]));`);
  assert.equal(JSON.parse(out), [false, true, true, true, 'hi']);
});

test('where the look-alike cannot pass (probed at the first Response), every one made is the runtime\'s and lazyResponses turns false', () => {
  if (process.versions.bun !== undefined || 'Deno' in globalThis) return;
  const out = child(`
    class Other { constructor(body, init) { this.body = body; this.status = init?.status ?? 200; } clone() { throw new Error('no'); }
      static json(d) { return new Other(JSON.stringify(d)); } }
    globalThis.Response = Other;
    const { Response, lazyResponses: before } = await import('./src/http/index.ts');
    const r = new Response('x', { status: 201 });
    const j = Response.json({ a: 1 });
    const m = await import('./src/http/index.ts');
    console.log(JSON.stringify([before, m.lazyResponses, r instanceof Other, r.status, j instanceof Other, j.body]));`);
  assert.equal(JSON.parse(out), [true, false, true, 201, true, '{"a":1}']);
});

test.run();
