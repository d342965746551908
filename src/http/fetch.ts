// The fetch-style API on top of the fast path: a Web `Request` per request
// (body as a ReadableStream of copies: a consumer may keep its chunks), the
// handler's `Response` written back with Content-Length when its body is one
// piece and chunked when it streams, with the connection's backpressure.
import { ZerglingError } from '../errors.ts';
import { httpCodes } from './errors.ts';
import type { FastHandler } from './conn.ts';
import type { HttpResponse } from './response.ts';
import { RequestSource, webRequest } from './web-request.ts';
import { SERVER_FIELDS as SKIP } from './init-lines.ts';
import { LazyResponse, type ResponseParts } from './web-response.ts';

export type FetchHandler = (request: Request) => Response | Promise<Response>;


/** True if the promise settles within a few microtask turns (a body that is already there). */
async function settlesNow<T>(p: Promise<T>): Promise<boolean> {
  let settled = false;
  p.then(() => { settled = true; }, () => { settled = true; });
  for (let i = 0; i < 4 && !settled; i++) await undefined;
  return settled;
}

/**
 * The symbol under which the runtime's Response keeps its state, whose
 * `body.source` is the string or bytes the Response was made from: undici's
 * `Symbol(state)` (Node 20, 22) or Deno's `Symbol(response)`; found on the
 * first response, null where there is none (Node 24's undici keeps it in
 * private fields, Bun natively).
 */
let stateKey: symbol | null | undefined;

interface BodyState {
  /** undici: the body's stream (always built). */
  stream?: ReadableStream | null;
  /** Deno: a stream, or a static body `{ body, consumed }` until a stream is asked for. */
  streamOrStatic?: ReadableStream | { consumed?: boolean } | null;
  source?: unknown;
}

/**
 * A Response made from a string or bytes, not yet read: those bytes, so the
 * body goes out without a stream being pulled (most of the cost of a small
 * response in Node). Anything else (a stream, a used body, a runtime whose
 * Response keeps no source we can see): undefined, and the body is read
 * through its stream.
 */
function sourceOf(response: Response): string | Uint8Array | undefined {
  if (stateKey === undefined) {
    stateKey = Object.getOwnPropertySymbols(response)
      .find((k) => k.description === 'state' || k.description === 'response') ?? null;
  }
  if (stateKey === null || response.bodyUsed) return undefined;
  const body = ((response as unknown as Record<symbol, { body?: BodyState | null } | undefined>)[stateKey])?.body;
  if (body === undefined || body === null) return undefined;
  if (body.stream?.locked === true) return undefined;
  const sos = body.streamOrStatic;
  if (sos !== undefined && sos !== null) {
    if (sos instanceof ReadableStream ? sos.locked : sos.consumed !== false) return undefined;
  }
  const src = body.source;
  return typeof src === 'string' || src instanceof Uint8Array ? src : undefined;
}

/**
 * Serialized header lines by their text: a response whose headers are the
 * same as an earlier one's (the common case: a handler builds every response
 * alike) copies the bytes encoded then instead of encoding the string again.
 */
const lineCache = new Map<string, Uint8Array>();
const LINE_CACHE_MAX = 256;
/** Longer header sections (cookies, per-response values) are encoded each time, not kept. */
const LINE_CACHE_ENTRY_MAX = 1024;

/** Status and header lines of `response`, staged. */
function writeHeadOf(response: Response, res: HttpResponse): void {
  res.status = response.status;
  appendHeaders(response.headers, res);
}

/** The lines of `headers` (less the server's own fields), staged. */
function appendHeaders(headers: Headers, res: HttpResponse): void {
  let lines = '';
  headers.forEach((value, name) => {
    if (!SKIP.has(name)) lines += `${name}: ${value}\r\n`;
  });
  if (lines.length === 0) return;
  let bytes = lineCache.get(lines);
  if (bytes === undefined) {
    bytes = Buffer.from(lines, 'latin1');
    if (lines.length <= LINE_CACHE_ENTRY_MAX) {
      if (lineCache.size >= LINE_CACHE_MAX) lineCache.clear();
      lineCache.set(lines, bytes);
    }
  }
  res.appendBytes(bytes);
}

/** The last short string body and its UTF-8 bytes: a handler answering with one literal encodes it once. */
const BODY_CACHE_CHARS = 1024;
let lastBody = '';
let lastBodyBytes: Uint8Array = new Uint8Array(0);

function bodyBytes(s: string): Uint8Array {
  if (s !== lastBody) {
    lastBodyBytes = Buffer.from(s, 'utf8');
    lastBody = s;
  }
  return lastBodyBytes;
}

/** A LazyResponse written from what it was made of: no Headers, no stream. */
function writeParts(p: ResponseParts, res: HttpResponse): void {
  res.status = p.status;
  if (p.headers !== undefined) appendHeaders(p.headers, res); // the app read (and may have changed) them
  else if (p.lines.length > 0) res.appendBytes(p.lines);
  const b = p.body;
  if (b === null) res.end();
  else if (typeof b === 'string' && b.length <= BODY_CACHE_CHARS) res.end(bodyBytes(b));
  else res.end(b);
}

/** Writes `response`: synchronously when its body's bytes are known, else a promise. */
function writeResponse(response: Response, res: HttpResponse): void | Promise<void> {
  if (response instanceof LazyResponse) {
    const parts = LazyResponse.parts(response);
    if (parts !== null) { writeParts(parts, res); return; }
  }
  writeHeadOf(response, res);
  const known = sourceOf(response);
  if (known !== undefined) { res.end(known); return; }
  return writeStream(response, res);
}

async function writeStream(response: Response, res: HttpResponse): Promise<void> {
  const body = response.body;
  if (body === null) { res.end(); return; }
  const reader = body.getReader();
  try {
    const first = await reader.read();
    if (first.done) { res.end(); return; }
    const second = reader.read();
    if (await settlesNow(second)) {
      const s = await second;
      if (s.done) { res.end(bytesOf(first.value)); return; }
      res.write(bytesOf(first.value));
      if (!res.write(bytesOf(s.value))) await res.flush();
    } else {
      // A body still being produced: send what there is now, chunked.
      if (!res.write(bytesOf(first.value))) await res.flush();
      const s = await second;
      if (s.done) { res.end(); return; }
      if (!res.write(bytesOf(s.value))) await res.flush();
    }
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      if (!res.write(bytesOf(r.value))) await res.flush();
    }
    res.end();
  } catch (err) {
    void reader.cancel(err).catch(() => {});
    throw err;
  }
}

function bytesOf(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  throw new ZerglingError(httpCodes.BAD_RESPONSE, 'a response body chunk is not bytes');
}

function checked(response: unknown): Response {
  if (!(response instanceof Response)) {
    throw new ZerglingError(httpCodes.BAD_RESPONSE, `fetch() must return a Response, got ${typeof response}`);
  }
  return response;
}

/**
 * The fast-path handler that serves `fetch`. A handler that returns a
 * Response (not a promise) whose body's bytes are known is served
 * synchronously: no promise on zergling's side.
 */
export function fetchHandler(fetch: FetchHandler, authority: () => string): FastHandler {
  return (req, res) => {
    const method = req.method;
    req.decodeHead();
    const src = new RequestSource(method, req.url, req.fieldLines(), authority(),
      req.hasBody && method !== 'GET' && method !== 'HEAD' ? req : null);
    let out: void | Promise<void>;
    try {
      const r = fetch(webRequest(src));
      if (r instanceof Response) out = writeResponse(r, res);
      else out = Promise.resolve(r).then((response) => writeResponse(checked(response), res));
    } catch (err) {
      src.body = null;
      throw err;
    }
    if (out === undefined) { src.body = null; return; }
    return out.finally(() => { src.body = null; });
  };
}
