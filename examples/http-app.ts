// The routes of the HTTP demo, twice: on the fast path (zero-copy request
// view, prebuilt headers) and fetch-style (Web Request/Response). Routing is
// a switch on the path: the app's business, no framework.
//   GET  /        Hello, World!
//   GET  /stream  a streamed (chunked) response, written with backpressure
//   POST /echo    the JSON body back, with its size
import type { FastHandler, FetchHandler, ServeModule } from '../src/http/index.ts';
// Response from zergling/http: a Web Response the server writes without building undici's (Node).
import { headerBlock, Response } from '../src/http/index.ts';

const TEXT = headerBlock({ 'content-type': 'text/plain' });
const JSON_TYPE = headerBlock({ 'content-type': 'application/json' });
const HELLO = Buffer.from('Hello, World!');
const LINES = 5;

export const handler: FastHandler = (req, res) => {
  if (req.pathIs('/')) { res.headers(TEXT).end(HELLO); return; }
  if (req.pathIs('/stream')) return stream(res);
  if (req.pathIs('/echo') && req.method === 'POST') return echo(req, res);
  res.writeHead(404, TEXT).end('not found\n');
};

async function stream(res: Parameters<FastHandler>[1]): Promise<void> {
  res.headers(TEXT);
  for (let i = 1; i <= LINES; i++) {
    if (!res.write(`line ${i} of ${LINES}\n`)) await res.flush();
    await new Promise((r) => setTimeout(r, 10));
  }
  res.end();
}

async function echo(req: Parameters<FastHandler>[0], res: Parameters<FastHandler>[1]): Promise<void> {
  const text = await req.text();
  let value: unknown;
  try { value = JSON.parse(text); } catch { res.writeHead(400, TEXT).end('body is not JSON\n'); return; }
  res.headers(JSON_TYPE).end(JSON.stringify({ received: value, bytes: Buffer.byteLength(text) }));
}

/**
 * The fetch-style routes, with `R` as the Response class: zergling's (the
 * default: the server writes it without building undici's) or the global one.
 * Not async: the common route returns its Response at once, and the server
 * then writes it without waiting for a promise.
 */
export function fetchWith(R: typeof Response): FetchHandler {
  const echoJson = async (request: Request): Promise<Response> => {
    const text = await request.text();
    let value: unknown;
    try { value = JSON.parse(text); } catch { return new R('body is not JSON\n', { status: 400 }); }
    return R.json({ received: value, bytes: Buffer.byteLength(text) });
  };
  return (request) => {
    const path = new URL(request.url).pathname;
    if (path === '/') return new R('Hello, World!', { headers: { 'content-type': 'text/plain' } });
    if (path === '/stream') {
      let i = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (i++ === LINES) { controller.close(); return; }
          await new Promise((r) => setTimeout(r, 10));
          controller.enqueue(new TextEncoder().encode(`line ${i} of ${LINES}\n`));
        },
      });
      return new R(body, { headers: { 'content-type': 'text/plain' } });
    }
    if (path === '/echo' && request.method === 'POST') return echoJson(request);
    return new R('not found\n', { status: 404, headers: { 'content-type': 'text/plain' } });
  };
}

export const fetch: FetchHandler = fetchWith(Response);

// `--app hello`, what `make bench` runs: the one response of bench/peers'
// Bun.serve, Deno.serve and node:http servers, with no routing, so that the
// rows compare servers (a `new URL(request.url)` per request is a router's
// cost, 5 % of the fetch-style server's CPU in a one-request profile and 16 %
// pipelined, docs/HTTP.md, and the peers pay none).
export const helloHandler: FastHandler = (_req, res) => { res.headers(TEXT).end(HELLO); };
export const helloWith = (R: typeof Response): FetchHandler =>
  () => new R('Hello, World!', { headers: { 'content-type': 'text/plain' } });

export type AppName = 'demo' | 'hello';
export type ApiName = 'fast' | 'fetch' | 'fetch-global';

/** The handler of `api` for `app`. */
export function pick(api: ApiName, app: AppName): ServeModule {
  if (api === 'fast') return { handler: app === 'hello' ? helloHandler : handler };
  // The global Response is read only here: on Node that read loads undici (~7 MiB of RSS).
  const R = api === 'fetch-global' ? globalThis.Response : Response;
  if (app === 'hello') return { fetch: helloWith(R) };
  return { fetch: api === 'fetch' ? fetch : fetchWith(R) };
}

/** For serve({ reactors, module }): every reactor thread picks its handler from moduleOptions. */
export default (options: { api?: ApiName; app?: AppName } | undefined): ServeModule =>
  pick(options?.api ?? 'fast', options?.app ?? 'demo');
