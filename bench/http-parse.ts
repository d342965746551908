// The parser decision's numbers (docs/HTTP.md): ns per request head for
//   ts      zergling's HeadParser (src/http/parser.ts) over the bytes where they lie
//   llhttp  llhttp compiled to Wasm (the build undici ships), as it would run
//           next to the reactor core: each chunk copied into Wasm memory (the
//           receive slab is native memory, not Wasm memory), spans reported
//           through imported callbacks into a preallocated table
//   native  Node's own llhttp (C, the binding node:http uses), for reference
// Usage: node --import tsx bench/http-parse.ts [--n 200000] [--runs 5] [--write]
// --write: also replaces the table between the parser markers of docs/HTTP.md.
// Bounded: N requests × runs per case; nothing touches the network.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HeadParser } from '../src/http/parser.ts';

const { values } = parseArgs({ options: { n: { type: 'string', default: '200000' }, runs: { type: 'string', default: '5' }, write: { type: 'boolean', default: false } } });
const N = Number(values.n);
const RUNS = Number(values.runs);

const WRK = 'GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n';
const BROWSER = 'GET /api/v1/items?page=2&sort=desc HTTP/1.1\r\nHost: example.test:8080\r\n' +
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0\r\n' +
  'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\n' +
  'Accept-Encoding: gzip, deflate, br, zstd\r\nConnection: keep-alive\r\nCookie: session=0123456789abcdef; theme=dark\r\n' +
  'Upgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-Site: none\r\n' +
  'Priority: u=0, i\r\n\r\n';
const CASES: [string, string, number][] = [
  ['wrk GET (1 field), one per buffer', WRK, 1],
  ['browser GET (13 fields), one per buffer', BROWSER, 1],
  ['wrk GET, 16 pipelined in one buffer', WRK, 16],
];

/** Where the undici llhttp Wasm build is: the project's node_modules, then the npm CLI's own copy. */
function findLlhttp(): string | undefined {
  const rel = join('undici', 'lib', 'llhttp', 'llhttp_simd-wasm.js');
  const roots = [join(process.cwd(), 'node_modules')];
  try { roots.push(join(execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim(), 'npm', 'node_modules')); } catch { /* no npm */ }
  return roots.map((r) => join(r, rel)).find((f) => existsSync(f));
}

type Parse = (buf: Uint8Array, perBuffer: number) => number;

function tsParser(): Parse {
  const p = new HeadParser({ maxHeaderSize: 16384, maxHeaders: 100, maxUrlSize: 8192, maxBodySize: 1 << 20 });
  return (buf, per) => {
    let pos = 0, got = 0;
    for (let i = 0; i < per; i++) {
      p.reset();
      pos = p.execute(buf, pos, buf.length);
      if (!p.done) throw new Error(`ts: ${p.error} ${p.reason}`);
      got += p.fieldCount + p.targetEnd - p.targetStart;
    }
    return got;
  };
}

async function llhttpParser(file: string): Promise<Parse> {
  const req = createRequire(file);
  const wasm = req(file) as Uint8Array<ArrayBuffer>;
  const spans = new Int32Array(512);
  let nspans = 0;
  let complete = 0;
  const span = (_p: number, at: number, len: number): number => { spans[nspans++ & 511] = at; spans[nspans++ & 511] = len; return 0; };
  const inst = await WebAssembly.instantiate(await WebAssembly.compile(wasm), {
    env: {
      wasm_on_url: span, wasm_on_status: span, wasm_on_header_field: span, wasm_on_header_value: span, wasm_on_body: span,
      wasm_on_message_begin: () => 0,
      wasm_on_headers_complete: () => 0,
      wasm_on_message_complete: () => { complete++; return 0; },
    },
  });
  const x = inst.exports as Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory };
  x._initialize?.();
  const parser = x.llhttp_alloc!(1); // TYPE.REQUEST
  const ptr = x.malloc!(65536);
  return (buf, per) => {
    nspans = 0;
    complete = 0;
    new Uint8Array(x.memory.buffer, ptr, buf.length).set(buf);
    const rc = x.llhttp_execute!(parser, ptr, buf.length);
    if (rc !== 0 || complete !== per) throw new Error(`llhttp: rc ${rc}, ${complete} of ${per}`);
    return nspans;
  };
}

function nativeParser(): Parse | undefined {
  const req = createRequire(import.meta.url);
  let common: { HTTPParser: new () => Record<string | number, unknown> };
  try { common = req('_http_common') as typeof common; } catch { return undefined; }
  const { HTTPParser } = common;
  const P = HTTPParser as unknown as { REQUEST: number; kOnHeadersComplete: number; kOnMessageComplete: number; kOnBody: number; kOnHeaders: number; kOnExecute: number };
  const parser = new HTTPParser() as Record<string | number, unknown> & { initialize(t: number, r: object): void; execute(b: Uint8Array): number };
  let complete = 0;
  parser[P.kOnHeadersComplete] = () => 0;
  parser[P.kOnMessageComplete] = () => { complete++; };
  parser[P.kOnBody] = () => {};
  parser[P.kOnHeaders] = () => {};
  parser[P.kOnExecute] = () => {};
  parser.initialize(P.REQUEST, {});
  return (buf, per) => {
    complete = 0;
    const r = parser.execute(buf);
    if (typeof r !== 'number' || complete !== per) throw new Error(`native: ${String(r)}`);
    return complete;
  };
}

function measure(parse: Parse, text: string, per: number): number {
  const buf = new Uint8Array(Buffer.from(text.repeat(per), 'latin1'));
  const iters = Math.max(1, Math.floor(N / per));
  let sink = 0;
  for (let i = 0; i < Math.min(iters, 20000); i++) sink += parse(buf, per); // warm up the JIT
  const samples: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) sink += parse(buf, per);
    samples.push(Number(process.hrtime.bigint() - t0) / (iters * per));
  }
  if (sink === 0) throw new Error('nothing parsed');
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1]!;
}

const llfile = findLlhttp();
const parsers: [string, Parse | undefined][] = [
  ['ts (HeadParser)', tsParser()],
  ['llhttp in Wasm (+ copy in)', llfile ? await llhttpParser(llfile) : undefined],
  ['Node native llhttp', nativeParser()],
];
console.log(`# ns per request head, median of ${RUNS} runs of ${N} requests; node ${process.version}`);
if (llfile) console.log(`# llhttp Wasm: ${llfile} (${readFileSync(llfile).length} bytes of JS)`);
const rows = [`| case | ${parsers.map(([n]) => n).join(' | ')} |`, `|---|${parsers.map(() => '---').join('|')}|`];
for (const [name, text, per] of CASES) {
  const cells = parsers.map(([, p]) => (p === undefined ? 'n/a' : measure(p, text, per).toFixed(0)));
  rows.push(`| ${name} | ${cells.join(' | ')} |`);
}
console.log(rows.join('\n'));
if (values.write) {
  const doc = join(import.meta.dirname, '..', 'docs', 'HTTP.md');
  const text = readFileSync(doc, 'utf8');
  const begin = '<!-- parser:begin -->', end = '<!-- parser:end -->';
  const a = text.indexOf(begin), b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${doc}: no ${begin} ... ${end} block`);
  const day = new Date().toISOString().slice(0, 10);
  const block = `${begin}\nRun of ${day}, Node ${process.version}, \`node --import tsx bench/http-parse.ts --runs ${RUNS} --write\`:\n\n${rows.join('\n')}\n`;
  writeFileSync(doc, text.slice(0, a) + block + text.slice(b));
  console.log(`# wrote ${doc}`);
}
