// The fetch-style API's Request, built lazily. A Web `Request` costs several
// microseconds in Node (URL parsing, a Headers list, an AbortSignal, on Node 20
// a transferable body stream) that most handlers never use beyond `method`,
// `url` and a header or two. `LazyRequest` is an object whose prototype chain
// holds `Request.prototype` (so `instanceof Request` is true) and whose
// `method`, `url`, `headers`, `body`, `bodyUsed`, `text()`, `json()`,
// `arrayBuffer()` and `bytes()` are its own: read from two strings taken from
// the head (the target and the field lines), parsed only when asked for. Any
// other member (`signal`, `clone()`, `formData()`, `blob()`, `cache`, …)
// first builds the real `Request` from them and forwards to it, and so do the
// runtime's internal slots, so `new Request(request)` and `fetch(request)`
// work as with a real one.
//
// That forwarding needs the runtime's Request to keep its state in symbol
// properties (Node 20 and 22's undici). Where it keeps it in private fields or
// native slots (Node 24, Bun, Deno) a look-alike cannot pass for a Request,
// and `webRequest()` builds the real Request at once instead: the same
// behaviour, without the saving.
import { forwardRest } from './forward.ts';
import type { HttpRequest } from './request.ts';

/** What the fetch-style handler gets for one request. */
export class RequestSource {
  readonly method: string;
  /** The request-target as sent. */
  readonly target: string;
  /** The field lines (`name: value` joined by CRLF, as received), or ''. */
  readonly fields: string;
  /** Host to use when the request has none (`host:port` of the listener). */
  readonly authority: string;
  /**
   * The body's reader while the request is in progress; null: no body, or the
   * response is done (the connection's reader has moved on to the next request).
   */
  body: HttpRequest | null;
  constructor(method: string, target: string, fields: string, authority: string, body: HttpRequest | null) {
    this.method = method;
    this.target = target;
    this.fields = fields;
    this.authority = authority;
    this.body = body;
  }
}

/** Field lines back to [name, value] pairs (already validated by the parser: only OWS to trim). */
function pairsOf(fields: string): [string, string][] {
  const out: [string, string][] = [];
  let i = 0;
  const n = fields.length;
  while (i < n) {
    let eol = fields.indexOf('\r\n', i);
    if (eol < 0) eol = n;
    const colon = fields.indexOf(':', i);
    let vs = colon + 1, ve = eol;
    while (vs < ve && (fields.charCodeAt(vs) === 0x20 || fields.charCodeAt(vs) === 0x09)) vs++;
    while (ve > vs && (fields.charCodeAt(ve - 1) === 0x20 || fields.charCodeAt(ve - 1) === 0x09)) ve--;
    out.push([fields.slice(i, colon), fields.slice(vs, ve)]);
    i = eol + 2;
  }
  return out;
}

/** The value of `host` in field lines (first occurrence), or undefined. */
function hostOf(fields: string): string | undefined {
  // The parser guarantees exactly one Host field in HTTP/1.1; a scan with no array.
  let i = 0;
  const n = fields.length;
  while (i < n) {
    let eol = fields.indexOf('\r\n', i);
    if (eol < 0) eol = n;
    if (eol - i > 5 && (fields.charCodeAt(i + 4) === 0x3a) && fields.slice(i, i + 4).toLowerCase() === 'host') {
      let vs = i + 5, ve = eol;
      while (vs < ve && (fields.charCodeAt(vs) === 0x20 || fields.charCodeAt(vs) === 0x09)) vs++;
      while (ve > vs && (fields.charCodeAt(ve - 1) === 0x20 || fields.charCodeAt(ve - 1) === 0x09)) ve--;
      return fields.slice(vs, ve);
    }
    i = eol + 2;
  }
  return undefined;
}

/**
 * Target bytes that the URL serializer leaves as they are in a path or query
 * of an http: URL (no percent-encoding, no dot segments to resolve).
 */
const PLAIN = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&()*+,;=:@/?%") PLAIN[c.charCodeAt(0)] = 1;
/** A host (and port) the URL serializer keeps as it is: lower-case name, no default port, IPv4 only in canonical form. */
const PLAIN_HOST = /^(?:[a-z0-9-]+\.)*(?:[a-z][a-z0-9-]*|[a-z0-9-]*[a-z][a-z0-9-]*|(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})(?::(?!80$)[1-9]\d{0,4})?$/;

/** The last host found plain (requests of one client repeat it): a string compare instead of the pattern. */
let lastPlainHost = '';

function plainHost(host: string): boolean {
  if (host === lastPlainHost) return true;
  if (!PLAIN_HOST.test(host)) return false;
  lastPlainHost = host;
  return true;
}

function plainTarget(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c >= 128 || PLAIN[c] !== 1) return false;
    if (c === 0x2e && t.charCodeAt(i - 1) === 0x2f) { // '/.': a dot segment, unless the query has begun
      const q = t.indexOf('?');
      if (q < 0 || q > i) return false;
    }
  }
  return true;
}

/** What `new Request(url).url` would say: the string as built when it is already serialized, else parsed. */
function urlOf(src: RequestSource): string {
  const t = src.target;
  if (t.charCodeAt(0) === 0x2f || t === '*') {
    const host = hostOf(src.fields) || src.authority;
    const raw = t === '*' ? `http://${host}/` : `http://${host}${t}`;
    if (plainHost(host) && plainTarget(t)) return raw;
    return new URL(raw).href;
  }
  return new URL(t).href; // absolute-form
}

/** The body as a stream; `used` is called when it is first read or cancelled (it is then "disturbed"). */
function bodyStream(src: RequestSource, used?: () => void): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    cancel() { used?.(); },
    async pull(controller) {
      used?.();
      const req = src.body;
      if (req === null) { controller.error(new TypeError('the request is over: its body can no longer be read')); return; }
      const b = await req.read();
      if (b === null) controller.close();
      else controller.enqueue(b.slice()); // a copy: the consumer may keep its chunks
    },
  }, { highWaterMark: 0 }); // nothing is read before the consumer asks (a read is what marks the body used)
}

const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/** The real Request for `src` (eager: what runtimes get where the lazy one cannot pass). */
function realRequest(src: RequestSource, headers: HeadersInit, body: ReadableStream<Uint8Array> | null): Request {
  const init: RequestInit & { duplex?: 'half' } = { method: src.method, headers };
  if (body !== null) { init.body = body; init.duplex = 'half'; }
  return new Request(urlOf(src), init);
}

function unusable(): TypeError {
  return new TypeError('Body is unusable: body has already been read');
}

export class LazyRequest {
  readonly #src: RequestSource;
  #url: string | undefined;
  #headers: Headers | undefined;
  /** undefined: not asked for yet; null: no body. */
  #body: ReadableStream<Uint8Array> | null | undefined;
  #used = false;
  #real: Request | undefined;

  constructor(src: RequestSource) {
    this.#src = src;
  }

  /** The real Request, built from what this one has (once; later reads go to it). */
  #materialize(): Request {
    if (this.#real !== undefined) return this.#real;
    const src = this.#src;
    this.#real = realRequest(src, this.headers, this.body);
    return this.#real;
  }

  get method(): string { return this.#src.method; }

  get url(): string { return (this.#url ??= urlOf(this.#src)); }

  get headers(): Headers {
    if (this.#real !== undefined) return this.#real.headers;
    return (this.#headers ??= new Headers(pairsOf(this.#src.fields)));
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.#real !== undefined) return this.#real.body;
    if (this.#body === undefined) {
      this.#body = this.#src.body === null || this.#used ? null : bodyStream(this.#src, () => { this.#used = true; });
    }
    return this.#body;
  }

  get bodyUsed(): boolean {
    if (this.#real !== undefined) return this.#real.bodyUsed;
    return this.#used;
  }

  /** The whole body, read straight from the connection (no stream) unless a stream was asked for. */
  async #bytes(): Promise<Uint8Array> {
    if (this.#real !== undefined || this.#body != null) return new Uint8Array(await this.#materialize().arrayBuffer());
    if (this.#used) throw unusable();
    const b = this.#src.body;
    if (b === null) return EMPTY; // no body: nothing is used up (as with a real Request)
    this.#used = true;
    return b.bytes();
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = await this.#bytes();
    return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer
      ? b.buffer
      : (b.slice().buffer as ArrayBuffer);
  }

  async bytes(): Promise<Uint8Array> {
    const b = await this.#bytes();
    return b === EMPTY ? new Uint8Array(0) : b;
  }

  async text(): Promise<string> {
    return decoder.decode(await this.#bytes());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  /** @internal For the forwarded members below. */
  static real(r: LazyRequest): Request {
    return r.#materialize();
  }
}

const OWN = new Set(Object.getOwnPropertyNames(LazyRequest.prototype));

/** Whether a LazyRequest passes for a Request here: `new Request(lazy)` must keep its method, URL, headers and body. */
function lazyWorks(): boolean {
  try {
    forwardRest(LazyRequest.prototype, Request.prototype, OWN, LazyRequest.real, new Request('http://probe/'));
    const lazy = new LazyRequest(new RequestSource('PUT', '/p?q', 'Host: h\r\nX-A:  b ', 'x', null)) as unknown as Request;
    const copy = new Request(lazy);
    return lazy instanceof Request && copy.method === 'PUT' && copy.url === 'http://h/p?q' && copy.headers.get('x-a') === 'b';
  } catch {
    return false;
  }
}

let lazy: boolean | undefined;

/**
 * True where requests are built lazily (see the top of this file). Probed on
 * the first call, not at import: reading Node's global Request loads undici
 * (about 7 MiB of RSS), which a fast-path server never needs.
 */
export function lazyRequests(): boolean {
  return (lazy ??= typeof Request === 'function' && lazyWorks());
}

/** The fetch-style handler's Request for `src`: lazy where that is safe, the real one elsewhere. */
export function webRequest(src: RequestSource): Request {
  if (lazy ?? lazyRequests()) return new LazyRequest(src) as unknown as Request;
  return realRequest(src, pairsOf(src.fields), src.body === null ? null : bodyStream(src));
}
