// The HTTP/1.1 conformance cases (test/http/conformance.test.ts runs each on
// the simulator and on real io_uring; scripts/http-table.mjs turns the
// results into the table in docs/HTTP.md). Each case is what a client sends
// and what it must see: the statuses of the responses, in order, their
// bodies where they matter, and whether the server then closes.
import { serve, headerBlock, type FastHandler, type ServeOptions } from '../../src/http/index.ts';

export type Step = { write: string } | { waitFor: string } | { pause: number };

export interface Case {
  group: string;
  name: string;
  /** What the client sends: one write, or steps. */
  send: string | Step[];
  /** Statuses of the responses, in order (100 included). */
  statuses: number[];
  /** Bodies of the final responses, in order, where given. */
  bodies?: (string | undefined)[];
  /** The server closes the connection after the last response. */
  close: boolean;
  /** Indexes of responses to HEAD requests (no body follows their head). */
  headAt?: number[];
  /** Send the request split in two at every byte, on a fresh connection each (one case, every split). */
  splitEveryByte?: boolean;
  /** Send every byte as its own write. */
  byteByByte?: boolean;
}

/** Small limits, so that the oversized cases stay small. */
export const LIMITS = { maxUrlSize: 256, maxHeaderSize: 1024, maxHeaders: 20, maxBodySize: 1000 } satisfies Partial<ServeOptions>;

const TEXT = headerBlock({ 'content-type': 'text/plain' });

/** The app under test: /echo answers the body, anything else "METHOD target". */
export const app: FastHandler = (req, res) => {
  if (req.pathIs('/echo')) return req.text().then((t) => { res.headers(TEXT).end(t); });
  res.headers(TEXT).end(`${req.method} ${req.url}`);
};

export function startServer(extra: Partial<ServeOptions>): ReturnType<typeof serve> {
  return serve({ port: 0, handler: app, ...LIMITS, ...extra });
}

const get = (path = '/', more = ''): string => `GET ${path} HTTP/1.1\r\nHost: t\r\n${more}\r\n`;
const post = (fields: string, body: string): string => `POST /echo HTTP/1.1\r\nHost: t\r\n${fields}\r\n${body}`;
const chunkedPost = (body: string): string => post('Transfer-Encoding: chunked\r\n', body);

export const CASES: Case[] = [
  // ---- valid
  { group: 'valid', name: 'GET', send: get(), statuses: [200], bodies: ['GET /'], close: false },
  { group: 'valid', name: 'GET with a query', send: get('/a/b?c=1&d'), statuses: [200], bodies: ['GET /a/b?c=1&d'], close: false },
  { group: 'valid', name: 'HTTP/1.0 GET: answered, then closed', send: 'GET /x HTTP/1.0\r\n\r\n', statuses: [200], bodies: ['GET /x'], close: true },
  { group: 'valid', name: 'HTTP/1.0 with Connection: keep-alive stays open', send: 'GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n', statuses: [200, 200], bodies: ['GET /1', 'GET /2'], close: true },
  { group: 'valid', name: 'Connection: close', send: get('/', 'Connection: close\r\n'), statuses: [200], close: true },
  { group: 'valid', name: 'absolute-form target', send: 'GET http://t/abs HTTP/1.1\r\nHost: t\r\n\r\n', statuses: [200], bodies: ['GET http://t/abs'], close: false },
  { group: 'valid', name: 'empty lines before the request line', send: `\r\n\r\n${get('/after')}`, statuses: [200], bodies: ['GET /after'], close: false },
  { group: 'valid', name: 'whitespace around a field value', send: 'GET / HTTP/1.1\r\nHost: \t t \t\r\n\r\n', statuses: [200], close: false },
  { group: 'valid', name: 'HTTP/1.2 is served as 1.1', send: 'GET / HTTP/1.2\r\nHost: t\r\n\r\n', statuses: [200], close: false },
  { group: 'valid', name: 'OPTIONS *', send: 'OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n', statuses: [200], bodies: ['OPTIONS *'], close: false },
  { group: 'body', name: 'Content-Length body', send: post('Content-Length: 11\r\n', 'hello world'), statuses: [200], bodies: ['hello world'], close: false },
  { group: 'body', name: 'Content-Length: 0', send: post('Content-Length: 0\r\n', ''), statuses: [200], bodies: [''], close: false },
  { group: 'body', name: 'chunked body', send: chunkedPost('5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'), statuses: [200], bodies: ['hello world'], close: false },
  { group: 'body', name: 'chunked, upper-case hex and leading zeros', send: chunkedPost('00B\r\nhello world\r\n0\r\n\r\n'), statuses: [200], bodies: ['hello world'], close: false },
  { group: 'body', name: 'chunked with extensions (token and quoted)', send: chunkedPost('5;a=b;c="d;\\"e"\r\nhello\r\n0;last\r\n\r\n'), statuses: [200], bodies: ['hello'], close: false },
  { group: 'body', name: 'chunked with trailer fields', send: chunkedPost('5\r\nhello\r\n0\r\nX-Sum: 1\r\nX-More: two\r\n\r\n'), statuses: [200], bodies: ['hello'], close: false },
  { group: 'body', name: 'Transfer-Encoding is case-insensitive', send: post('Transfer-Encoding: Chunked\r\n', '2\r\nok\r\n0\r\n\r\n'), statuses: [200], bodies: ['ok'], close: false },
  { group: 'body', name: 'a body the handler does not read is skipped', send: `POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc${get('/next')}`, statuses: [200, 200], bodies: ['POST /x', 'GET /next'], close: false },
  { group: 'HEAD', name: 'HEAD: head only, then the next request', send: `HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n${get('/g')}`, statuses: [200, 200], bodies: [undefined, 'GET /g'], headAt: [0], close: false },
  { group: '100-continue', name: 'Expect: 100-continue, body sent after the 100', send: [{ write: 'POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n' }, { waitFor: '100 Continue' }, { write: 'data' }], statuses: [100, 200], bodies: ['data'], close: false },
  { group: '100-continue', name: 'Expect: 100-continue, body not read: no 100, answered, closed', send: 'POST /x HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n', statuses: [200], close: true },
  { group: '100-continue', name: 'unknown expectation: 417', send: get('/', 'Expect: something-else\r\n'), statuses: [417], close: true },
  // ---- pipelining and splitting
  { group: 'pipelined', name: '3 GETs in one write, answered in order', send: get('/1') + get('/2') + get('/3'), statuses: [200, 200, 200], bodies: ['GET /1', 'GET /2', 'GET /3'], close: false },
  { group: 'pipelined', name: '16 GETs in one write', send: get('/p').repeat(16), statuses: Array(16).fill(200), close: false },
  { group: 'pipelined', name: 'POST with a body, then GET', send: post('Content-Length: 3\r\n', 'abc') + get('/after'), statuses: [200, 200], bodies: ['abc', 'GET /after'], close: false },
  { group: 'pipelined', name: 'chunked POST, then GET', send: chunkedPost('3\r\nabc\r\n0\r\n\r\n') + get('/after'), statuses: [200, 200], bodies: ['abc', 'GET /after'], close: false },
  { group: 'pipelined', name: 'valid, then malformed: 200, 400, closed', send: `${get('/ok')}GET / HTTP/1.1\r\nHost : t\r\n\r\n`, statuses: [200, 400], close: true },
  { group: 'split', name: 'GET split in two at every byte', send: get('/split', 'X-A: 1\r\n'), statuses: [200], bodies: ['GET /split'], close: false, splitEveryByte: true },
  { group: 'split', name: 'chunked POST split in two at every byte', send: chunkedPost('5;x=1\r\nhello\r\n0\r\nT: v\r\n\r\n'), statuses: [200], bodies: ['hello'], close: false, splitEveryByte: true },
  { group: 'split', name: 'GET sent one byte per write', send: get('/bytes'), statuses: [200], bodies: ['GET /bytes'], close: false, byteByByte: true },
  // ---- malformed
  { group: 'malformed', name: 'bare LF line ends', send: 'GET / HTTP/1.1\nHost: t\n\n', statuses: [400], close: true },
  { group: 'malformed', name: 'whitespace before a field colon', send: 'GET / HTTP/1.1\r\nHost : t\r\n\r\n', statuses: [400], close: true },
  { group: 'malformed', name: 'obs-fold (continuation line)', send: 'GET / HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n  2\r\n\r\n', statuses: [400], close: true },
  { group: 'malformed', name: 'HTTP/1.1 without Host', send: 'GET / HTTP/1.1\r\n\r\n', statuses: [400], close: true },
  { group: 'malformed', name: 'two Host fields', send: 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', statuses: [400], close: true },
  { group: 'malformed', name: 'bad character in the method', send: 'G(T / HTTP/1.1\r\nHost: t\r\n\r\n', statuses: [400], close: true },
  { group: 'malformed', name: 'lower-case HTTP-version', send: 'GET / http/1.1\r\nHost: t\r\n\r\n', statuses: [400], close: true },
  { group: 'malformed', name: 'control character in a field value', send: 'GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x01b\r\n\r\n', statuses: [400], close: true },
  { group: 'malformed', name: 'NUL in the request-target', send: 'GET /a\x00b HTTP/1.1\r\nHost: t\r\n\r\n', statuses: [400], close: true },
  { group: 'malformed', name: 'not HTTP at all', send: 'hello there\r\n\r\n', statuses: [400], close: true },
  { group: 'malformed', name: 'empty field name', send: 'GET / HTTP/1.1\r\nHost: t\r\n: x\r\n\r\n', statuses: [400], close: true },
  { group: 'malformed', name: 'request line without a version', send: 'GET /\r\n\r\n', statuses: [400], close: true },
  { group: 'malformed', name: 'two spaces between method and target', send: 'GET  / HTTP/1.1\r\nHost: t\r\n\r\n', statuses: [400], close: true },
  { group: 'version', name: 'HTTP/2.0: 505', send: 'GET / HTTP/2.0\r\nHost: t\r\n\r\n', statuses: [505], close: true },
  { group: 'version', name: 'HTTP/0.9 version token: 505', send: 'GET / HTTP/0.9\r\nHost: t\r\n\r\n', statuses: [505], close: true },
  // ---- limits
  { group: 'oversized', name: 'request-target over maxUrlSize: 414', send: get(`/${'a'.repeat(300)}`), statuses: [414], close: true },
  { group: 'oversized', name: 'header section over maxHeaderSize: 431', send: get('/', `X-Big: ${'b'.repeat(1100)}\r\n`), statuses: [431], close: true },
  { group: 'oversized', name: 'more than maxHeaders fields: 431', send: get('/', Array.from({ length: 25 }, (_, i) => `X-${i}: v\r\n`).join('')), statuses: [431], close: true },
  { group: 'oversized', name: 'Content-Length over maxBodySize: 413', send: post('Content-Length: 1001\r\n', ''), statuses: [413], close: true },
  { group: 'oversized', name: 'chunked body over maxBodySize: 413', send: chunkedPost(`3E9\r\n${'x'.repeat(1001)}\r\n0\r\n\r\n`), statuses: [413], close: true },
  { group: 'oversized', name: 'huge Content-Length: 413', send: post('Content-Length: 99999999999999999999\r\n', ''), statuses: [413], close: true },
  // ---- smuggling vectors
  { group: 'smuggling', name: 'Content-Length and Transfer-Encoding', send: post('Content-Length: 4\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'), statuses: [400], close: true },
  { group: 'smuggling', name: 'two equal Content-Length fields', send: post('Content-Length: 3\r\nContent-Length: 3\r\n', 'abc'), statuses: [400], close: true },
  { group: 'smuggling', name: 'conflicting Content-Length fields', send: post('Content-Length: 3\r\nContent-Length: 4\r\n', 'abcd'), statuses: [400], close: true },
  { group: 'smuggling', name: 'Content-Length as a list', send: post('Content-Length: 3, 3\r\n', 'abc'), statuses: [400], close: true },
  { group: 'smuggling', name: 'Content-Length with a sign', send: post('Content-Length: +3\r\n', 'abc'), statuses: [400], close: true },
  { group: 'smuggling', name: 'Transfer-Encoding: chunked, identity (chunked not last)', send: post('Transfer-Encoding: chunked, identity\r\n', '0\r\n\r\n'), statuses: [400], close: true },
  { group: 'smuggling', name: 'Transfer-Encoding: xchunked', send: post('Transfer-Encoding: xchunked\r\n', '0\r\n\r\n'), statuses: [400], close: true },
  { group: 'smuggling', name: 'Transfer-Encoding twice (chunked applied twice)', send: post('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'), statuses: [400], close: true },
  { group: 'smuggling', name: 'Transfer-Encoding with a vertical tab', send: post('Transfer-Encoding:\x0bchunked\r\n', '0\r\n\r\n'), statuses: [400], close: true },
  { group: 'smuggling', name: 'Transfer-Encoding quoted', send: post('Transfer-Encoding: "chunked"\r\n', '0\r\n\r\n'), statuses: [400], close: true },
  { group: 'smuggling', name: 'Transfer-Encoding with whitespace before the colon', send: post('Transfer-Encoding : chunked\r\n', '0\r\n\r\n'), statuses: [400], close: true },
  { group: 'smuggling', name: 'Transfer-Encoding in HTTP/1.0', send: 'POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', statuses: [400], close: true },
  { group: 'smuggling', name: 'Transfer-Encoding: gzip, chunked: 501', send: post('Transfer-Encoding: gzip, chunked\r\n', '0\r\n\r\n'), statuses: [501], close: true },
  // ---- bad chunk sizes
  { group: 'chunk sizes', name: 'non-hex chunk size', send: chunkedPost('zz\r\nhello\r\n0\r\n\r\n'), statuses: [400], close: true },
  { group: 'chunk sizes', name: '0x-prefixed chunk size', send: chunkedPost('0x5\r\nhello\r\n0\r\n\r\n'), statuses: [400], close: true },
  { group: 'chunk sizes', name: 'negative chunk size', send: chunkedPost('-5\r\nhello\r\n0\r\n\r\n'), statuses: [400], close: true },
  { group: 'chunk sizes', name: 'chunk size of 16 hex digits (overflow)', send: chunkedPost('1000000000000005\r\nhello\r\n0\r\n\r\n'), statuses: [400], close: true },
  { group: 'chunk sizes', name: 'chunk data longer than its size', send: chunkedPost('3\r\nhello\r\n0\r\n\r\n'), statuses: [400], close: true },
  { group: 'chunk sizes', name: 'whitespace after a chunk size', send: chunkedPost('5 \r\nhello\r\n0\r\n\r\n'), statuses: [400], close: true },
  { group: 'chunk sizes', name: 'chunk extension without a name', send: chunkedPost('5;=x\r\nhello\r\n0\r\n\r\n'), statuses: [400], close: true },
  { group: 'chunk sizes', name: 'empty chunk size line', send: chunkedPost('\r\nhello\r\n0\r\n\r\n'), statuses: [400], close: true },
];
