// The fast path's request: one per connection, reused for every request on
// it. Nothing is decoded until asked for: the method is an interned string,
// the target and header values are read from the receive bytes on demand,
// and body pieces are views over the receive buffers (no copy), each valid
// until the next read.
import type { HeadParser } from './parser.ts';
import { eqLower } from './chars.ts';

/** Where the request's body bytes come from (the connection). */
export interface BodySource {
  /** The next piece of the body (a view, valid until the next call), or null at its end. */
  readBody(): Promise<Uint8Array | null>;
}

const decoder = new TextDecoder();

export class HttpRequest implements AsyncIterable<Uint8Array> {
  /** The method, e.g. 'GET' (interned for the standard methods: no allocation). */
  method = 'GET';
  #buf: Buffer = Buffer.alloc(0);
  readonly #p: HeadParser;
  readonly #src: BodySource;
  #url: string | undefined;
  #fields: string | undefined;

  /** @internal */
  constructor(parser: HeadParser, src: BodySource) {
    this.#p = parser;
    this.#src = src;
  }

  /** @internal The head just parsed lies in `buf`. */
  begin(buf: Buffer): void {
    this.#buf = buf;
    this.#url = undefined;
    this.#fields = undefined;
    this.method = this.#p.method(buf);
  }

  /** The request-target as sent (origin-form `/path?query`, or absolute-form). */
  get url(): string {
    return (this.#url ??= this.#buf.toString('latin1', this.#p.targetStart, this.#p.targetEnd));
  }

  /** True if the target's path (without the query) is exactly `path`. Allocates nothing. */
  pathIs(path: string): boolean {
    const b = this.#buf, s = this.#p.targetStart, e = this.#p.targetEnd;
    const n = path.length;
    if (e - s < n) return false;
    for (let i = 0; i < n; i++) if (b[s + i] !== path.charCodeAt(i)) return false;
    return s + n === e || b[s + n] === 0x3f; // '?'
  }

  /** '1.1' or '1.0'. */
  get httpVersion(): '1.0' | '1.1' {
    return this.#p.minor === 0 ? '1.0' : '1.1';
  }

  /** Whether the client wants the connection kept open after this request. */
  get keepAlive(): boolean { return this.#p.keepAlive; }
  /** Declared Content-Length, or -1 (none, or chunked). */
  get contentLength(): number { return this.#p.contentLength; }
  /** The body uses the chunked coding. */
  get chunked(): boolean { return this.#p.chunked; }
  /** Whether a body follows the head. */
  get hasBody(): boolean { return this.#p.chunked || this.#p.contentLength > 0; }

  /** Number of header field lines. */
  get headerCount(): number { return this.#p.fieldCount; }

  /** Name of the i-th field line as sent. */
  headerName(i: number): string {
    const f = this.#p.fields;
    return this.#buf.toString('latin1', f[i * 4]!, f[i * 4 + 1]!);
  }

  /** Value of the i-th field line (surrounding whitespace removed). */
  headerValue(i: number): string {
    const f = this.#p.fields;
    return this.#buf.toString('latin1', f[i * 4 + 2]!, f[i * 4 + 3]!);
  }

  #find(lower: string): number {
    const f = this.#p.fields, b = this.#buf;
    for (let i = 0, n = this.#p.fieldCount; i < n; i++) {
      if (eqLower(b, f[i * 4]!, f[i * 4 + 1]!, lower)) return i;
    }
    return -1;
  }

  /**
   * The value of header `name` (case-insensitive; `name` in lower case is
   * fastest), or undefined. Several lines of the same name are joined with ", ".
   */
  header(name: string): string | undefined {
    const lower = name.toLowerCase();
    const i = this.#find(lower);
    if (i < 0) return undefined;
    let v = this.headerValue(i);
    const f = this.#p.fields, b = this.#buf;
    for (let j = i + 1, n = this.#p.fieldCount; j < n; j++) {
      if (eqLower(b, f[j * 4]!, f[j * 4 + 1]!, lower)) v += `, ${this.headerValue(j)}`;
    }
    return v;
  }

  hasHeader(name: string): boolean {
    return this.#find(name.toLowerCase()) >= 0;
  }

  /** True if header `name`'s value equals `value` ignoring ASCII case (`value` lower case). Allocates nothing. */
  headerIs(name: string, value: string): boolean {
    const i = this.#find(name);
    if (i < 0) return false;
    const f = this.#p.fields;
    return eqLower(this.#buf, f[i * 4 + 2]!, f[i * 4 + 3]!, value);
  }

  /** The field lines as received (`name: value` joined by CRLF), one string; '' without fields. */
  fieldLines(): string {
    if (this.#fields !== undefined) return this.#fields;
    const n = this.#p.fieldCount;
    if (n === 0) return (this.#fields = '');
    const f = this.#p.fields;
    return (this.#fields = this.#buf.toString('latin1', f[0]!, f[n * 4 - 1]!));
  }

  /**
   * @internal Decodes the target and the field lines with one call into the
   * runtime (fetch-style requests need both, every time): they are adjacent
   * in the head, and the two substrings of one string share its bytes.
   */
  decodeHead(): void {
    const n = this.#p.fieldCount;
    if (n === 0 || this.#url !== undefined || this.#fields !== undefined) return;
    const f = this.#p.fields, s = this.#p.targetStart;
    const head = this.#buf.toString('latin1', s, f[n * 4 - 1]!);
    this.#url = head.substring(0, this.#p.targetEnd - s);
    this.#fields = head.substring(f[0]! - s);
  }

  /** Every field line as [name, value] pairs (allocates; for adapters and logging). */
  headerPairs(): [string, string][] {
    const out: [string, string][] = [];
    for (let i = 0; i < this.#p.fieldCount; i++) out.push([this.headerName(i), this.headerValue(i)]);
    return out;
  }

  /**
   * The next piece of the body: a view over the receive buffer (no copy),
   * valid until the next `read()` or until the response ends; null at the end
   * of the body. An `Expect: 100-continue` request gets its 100 response on
   * the first read. Rejects with `ERR_HTTP_REQUEST_BODY` (`status` 400/413)
   * for a malformed or oversized body, `ERR_HTTP_BODY_ABORTED` if the peer
   * goes away first.
   */
  read(): Promise<Uint8Array | null> {
    return this.#src.readBody();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (let b = await this.read(); b !== null; b = await this.read()) yield b;
  }

  /** The whole body, copied into one array. */
  async bytes(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let n = 0;
    for (let b = await this.read(); b !== null; b = await this.read()) {
      parts.push(b.slice());
      n += b.length;
    }
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(n);
    let k = 0;
    for (const p of parts) { out.set(p, k); k += p.length; }
    return out;
  }

  async text(): Promise<string> {
    return decoder.decode(await this.bytes());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }
}
