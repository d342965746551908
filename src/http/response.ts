// The fast path's response writer: one per connection, reused for every
// request on it. The status line and the Date line are prebuilt bytes, header
// blocks the app encodes once (`headerBlock()`) are copied as they are, and
// the whole head plus a small body is staged for one write to the kernel.
import { ZerglingError, invalidArgType } from '../errors.ts';
import { FIELD, TCHAR } from './chars.ts';
import { batchDateLine, batchOkLines, refreshDate } from './date.ts';
import { DIRECT_BODY, type Output } from './output.ts';
import { bodyless, statusLine } from './status.ts';
import { httpCodes } from './errors.ts';

const CONNECTION_CLOSE = Buffer.from('Connection: close\r\n', 'latin1');
const CONNECTION_KEEP_ALIVE = Buffer.from('Connection: keep-alive\r\n', 'latin1');
const CONTENT_LENGTH = Buffer.from('Content-Length: ', 'latin1');
const CHUNKED = Buffer.from('Transfer-Encoding: chunked\r\n\r\n', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');
const CRLF2 = Buffer.from('\r\n\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

/** Header lines encoded once (`Name: value\r\n` each), copied into every response that uses them. */
export class HeaderBlock {
  readonly bytes: Uint8Array;
  /** The block sets Content-Length itself (then the response is not framed by the server). */
  readonly hasLength: boolean;
  /**
   * @internal The head of a 200 keep-alive response with only this block, up
   * to the Content-Length value (`HTTP/1.1 200 OK`, Date, the block,
   * `Content-Length: `), for the Date line `prefixFor`: the common response
   * costs one copy of it instead of four. Rebuilt when the Date line changes
   * (once a second), never per response.
   */
  prefix: Uint8Array = EMPTY;
  /** @internal The status-and-Date lines `prefix` was built with. */
  prefixFor: Uint8Array | null = null;
  constructor(bytes: Uint8Array, hasLength: boolean) {
    this.bytes = bytes;
    this.hasLength = hasLength;
  }
}

const EMPTY = new Uint8Array(0);

function checkName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw invalidArgType('name', 'a non-empty string', name);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 255 || TCHAR[c] !== 1) throw new ZerglingError(httpCodes.INVALID_HEADER, `invalid header name ${JSON.stringify(name)}`);
  }
}

function checkValue(name: string, value: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 255 || FIELD[c] !== 1) {
      throw new ZerglingError(httpCodes.INVALID_HEADER, `invalid character in the value of header ${JSON.stringify(name)}`);
    }
  }
}

/** Framing and connection headers are the server's: the app may not set them. */
const RESERVED = new Set(['transfer-encoding', 'connection', 'date', 'keep-alive', 'upgrade']);

/**
 * Encodes header lines once: `headerBlock({ 'content-type': 'text/plain' })`.
 * Names and values are checked here (no CR/LF or other control characters),
 * never again per response.
 */
export function headerBlock(headers: Record<string, string | number> | Iterable<readonly [string, string]>): HeaderBlock {
  let text = '';
  let hasLength = false;
  const entries = Symbol.iterator in Object(headers)
    ? [...(headers as Iterable<readonly [string, string]>)]
    : Object.entries(headers as Record<string, string | number>);
  for (const [name, raw] of entries) {
    const value = String(raw);
    checkName(name);
    checkValue(name, value);
    const lower = name.toLowerCase();
    if (RESERVED.has(lower)) throw new ZerglingError(httpCodes.INVALID_HEADER, `${name} is set by the server`);
    if (lower === 'content-length') {
      if (!/^[0-9]+$/.test(value)) throw new ZerglingError(httpCodes.INVALID_HEADER, 'Content-Length must be digits');
      hasLength = true;
    }
    text += `${name}: ${value}\r\n`;
  }
  return new HeaderBlock(Buffer.from(text, 'latin1'), hasLength);
}

/** What a response needs from its connection. */
export interface ResponseSink {
  readonly output: Output;
  /** True inside a read batch: the Date line was refreshed when it began. */
  readonly inBatch: boolean;
  /** Claims the staging buffer for this connection. */
  stage(): void;
  /** The staged bytes are complete for now: write them unless a batch is being gathered. */
  staged(): boolean;
  /** Writes a large body directly (after the staged head). */
  writeDirect(bytes: Uint8Array | string): boolean;
  flushed(): Promise<void>;
  /** The response is complete. */
  done(res: HttpResponse): void;
}

export class HttpResponse {
  /** Status code, 200 unless set. */
  status = 200;
  #sink: ResponseSink;
  /** Header blocks of this response: the first #nBlocks slots (reused, never shrunk: no per-response array work). */
  readonly #blocks: HeaderBlock[] = [];
  #nBlocks = 0;
  readonly #raw: Uint8Array[] = [];
  #nRaw = 0;
  #extra = '';
  #hasLength = false;
  #head = false; // HEAD request: framing headers, no body
  #keepAlive = true;
  #http10 = false;
  #sent = false;
  #chunked = false;
  #finished = false;

  /** @internal */
  constructor(sink: ResponseSink) {
    this.#sink = sink;
  }

  /** @internal A new request on the connection. */
  begin(head: boolean, http10: boolean, keepAlive: boolean): void {
    this.status = 200;
    this.#nBlocks = 0;
    this.#nRaw = 0;
    this.#extra = '';
    this.#hasLength = false;
    this.#head = head;
    this.#http10 = http10;
    this.#keepAlive = keepAlive;
    this.#sent = false;
    this.#chunked = false;
    this.#finished = false;
  }

  /** True once the status line and headers are written. */
  get headersSent(): boolean { return this.#sent; }
  /** True once `end()` was called. */
  get finished(): boolean { return this.#finished; }
  /** Whether the connection stays open after this response. */
  get keepAlive(): boolean { return this.#keepAlive; }

  /** @internal The 100-continue body was asked for: the connection may carry on after all. */
  allowKeepAlive(): void {
    if (!this.#sent) this.#keepAlive = true;
  }

  /** @internal The server decided to close after this response (graceful close, limits). */
  closeAfter(): void {
    if (!this.#sent) this.#keepAlive = false;
  }

  /** Adds one header line (checked now; prefer `headers()` with a prebuilt block on hot paths). */
  setHeader(name: string, value: string | number): this {
    this.#unsent();
    const v = String(value);
    checkName(name);
    checkValue(name, v);
    const lower = name.toLowerCase();
    if (RESERVED.has(lower)) throw new ZerglingError(httpCodes.INVALID_HEADER, `${name} is set by the server`);
    if (lower === 'content-length') this.#hasLength = true;
    this.#extra += `${name}: ${v}\r\n`;
    return this;
  }

  /** @internal Header lines already validated and encoded (`Name: value\r\n` each, no Content-Length). */
  appendBytes(lines: Uint8Array): void {
    this.#raw[this.#nRaw++] = lines;
  }

  /** Adds a prebuilt block of header lines (see `headerBlock()`): copied, never re-encoded. */
  headers(block: HeaderBlock): this {
    this.#unsent();
    if (!(block instanceof HeaderBlock)) throw invalidArgType('block', 'a HeaderBlock (from headerBlock())', block);
    this.#blocks[this.#nBlocks++] = block;
    if (block.hasLength) this.#hasLength = true;
    return this;
  }

  /** Status and headers at once. */
  writeHead(status: number, block?: HeaderBlock): this {
    this.#unsent();
    if (!Number.isInteger(status) || status < 200 || status > 999) {
      throw new ZerglingError(httpCodes.INVALID_STATUS, `invalid status ${String(status)}`);
    }
    this.status = status;
    if (block !== undefined) this.headers(block);
    return this;
  }

  #unsent(): void {
    if (this.#sent) throw new ZerglingError(httpCodes.HEADERS_SENT, 'the response head was already sent');
  }

  /** Stages the head; `length` >= 0 frames by Content-Length, -1 by chunked (or close for HTTP/1.0). */
  #writeHead(length: number): void {
    const out = this.#sink.output;
    this.#sink.stage();
    const blocks = this.#blocks, nb = this.#nBlocks, raw = this.#raw, nr = this.#nRaw;
    let extra = 0;
    for (let i = 0; i < nb; i++) extra += blocks[i]!.bytes.length;
    for (let i = 0; i < nr; i++) extra += raw[i]!.length;
    out.ensure(256 + extra + this.#extra.length * 3);
    if (!this.#sink.inBatch) refreshDate(); // a response outside a read batch (an async handler's): the clock now
    if (nb === 1 && nr === 0 && length >= 0 && this.status === 200 && this.#keepAlive && !this.#http10 &&
      !this.#hasLength && this.#extra.length === 0) {
      const b = blocks[0]!, ok = batchOkLines();
      if (b.prefixFor !== ok) {
        b.prefix = Buffer.concat([ok, b.bytes, CONTENT_LENGTH]);
        b.prefixFor = ok;
      }
      out.put(b.prefix);
      out.putInt(length);
      out.putCrlf2();
      this.#sent = true;
      return;
    }
    if (this.status === 200) out.put(batchOkLines());
    else { out.put(statusLine(this.status)); out.put(batchDateLine()); }
    if (!this.#keepAlive) out.put(CONNECTION_CLOSE);
    else if (this.#http10) out.put(CONNECTION_KEEP_ALIVE);
    for (let i = 0; i < nb; i++) out.put(blocks[i]!.bytes);
    for (let i = 0; i < nr; i++) out.put(raw[i]!);
    if (this.#extra.length > 0) out.putLatin1(this.#extra);
    this.#sent = true;
    if (bodyless(this.status)) { out.put(CRLF); return; }
    if (this.#hasLength) { out.put(CRLF); return; }
    if (length >= 0) {
      out.put(CONTENT_LENGTH);
      out.putInt(length);
      out.put(CRLF2);
    } else if (this.#http10) {
      this.#keepAlive = false; // no chunked coding for HTTP/1.0: the end of the body is the end of the connection
      out.put(CRLF);
    } else {
      this.#chunked = true;
      out.put(CHUNKED);
    }
  }

  /**
   * Sends the response with `body` (framed by Content-Length) or continues a
   * streamed one and ends it. A HEAD request gets the head only. Bodies of
   * 16 KiB or more are written as they are: a Uint8Array of 64 KiB or more is
   * lent to the kernel (do not modify it until the response is flushed).
   */
  end(body?: string | Uint8Array): void {
    if (this.#finished) return;
    const sink = this.#sink;
    if (!this.#sent) {
      let len = 0;
      if (body !== undefined) len = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      this.#writeHead(len);
      if (len > 0 && !this.#head && !bodyless(this.status)) this.#body(body!, len);
    } else if (body !== undefined) {
      this.write(body);
    }
    if (this.#chunked && !this.#head) {
      sink.stage();
      sink.output.ensure(8);
      sink.output.put(LAST_CHUNK);
    }
    this.#finished = true;
    sink.staged();
    sink.done(this);
  }

  #body(body: string | Uint8Array, len: number): void {
    const out = this.#sink.output;
    if (len >= DIRECT_BODY) {
      this.#sink.writeDirect(body);
      return;
    }
    out.ensure(len);
    if (typeof body === 'string') out.putUtf8(body);
    else out.put(body);
  }

  /**
   * Streams a piece of the body (chunked for HTTP/1.1 unless a Content-Length
   * header was set). Returns false above the connection's high-water mark:
   * `await res.flush()` before writing more.
   */
  write(chunk: string | Uint8Array): boolean {
    if (this.#finished) throw new ZerglingError(httpCodes.WRITE_AFTER_END, 'write after end()');
    if (!this.#sent) this.#writeHead(-1);
    const len = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    if (this.#head || len === 0 || bodyless(this.status)) return this.#sink.staged();
    const out = this.#sink.output;
    this.#sink.stage();
    if (this.#chunked) {
      out.ensure(24);
      out.putHex(len);
      out.put(CRLF);
    }
    this.#body(chunk, len);
    if (this.#chunked) {
      this.#sink.stage();
      out.ensure(2);
      out.put(CRLF);
    }
    return this.#sink.staged();
  }

  /** Resolves when everything written so far is with the kernel. */
  flush(): Promise<void> {
    this.#sink.staged();
    return this.#sink.flushed();
  }
}
