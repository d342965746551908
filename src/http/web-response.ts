// The fetch-style API's Response, built lazily. In Node, `new Response('Hello')`
// costs more than the whole rest of a request on the fast path: undici turns
// every body into a ReadableStream and the init into a Headers list at once,
// though the server then only needs the status, the header lines and the
// body's bytes. `Response` from 'zergling/http' keeps what it was made from
// (body, status, statusText, the headers init) and the server writes those
// directly. Its prototype chain holds the runtime's `Response.prototype`, so
// `instanceof Response` is true, and every member the server does not need
// (`body`, `clone()`, `blob()`, `formData()`, …) first builds the real
// Response from what it keeps and forwards to it, as LazyRequest does.
//
// Where the forwarding cannot be shown to work (the probe at the bottom), or
// where the runtime's own Response is already cheap (Bun, Deno: native), the
// export is the runtime's Response itself.

import { forwardRest } from './forward.ts';
import { headersOf, takeInit, type HeadersInitLike, type InitLines } from './init-lines.ts';

/** Bodies kept as they are; anything else (streams, Blob, FormData, URLSearchParams) builds the real Response. */
export type PlainBody = string | Uint8Array | null;

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const REASON = /^[\t\x20-\x7e\x80-\xff]*$/;
const TEXT_PLAIN = 'text/plain;charset=UTF-8';
const JSON_TYPE = 'application/json';

/** Set by Response.json() around its construction: the implicit content-type is JSON's. */
let jsonNext = false;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function isPlain(body: unknown): body is string | Uint8Array | ArrayBuffer | null | undefined {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer;
}

/** WebIDL's `unsigned short` conversion, which the constructor applies to init.status (200.5 is 200). */
function unsignedShort(v: unknown): number {
  const x = Number(v);
  if (!Number.isFinite(x)) return 0;
  return ((Math.trunc(x) % 65536) + 65536) % 65536;
}

/** The same checks as the Response constructor, so a bad init fails where the real one would. */
function checkInit(status: number, statusText: string, hasBody: boolean): void {
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new RangeError(`init["status"] must be in the range of 200 to 599, inclusive (got ${status})`);
  }
  if (statusText !== '' && !REASON.test(statusText)) throw new TypeError('Invalid statusText');
  if (hasBody && NULL_BODY_STATUS.has(status)) throw new TypeError(`Response with null body status ${status} cannot have a body`);
}

export class LazyResponse {
  /** @internal Real Responses built behind lazy ones (tests check the plain path builds none). */
  static built = 0;
  readonly #body!: PlainBody;
  readonly #status!: number;
  readonly #statusText!: string;
  /** The headers init as taken at construction (a snapshot, encoded), or null for a real Response's. */
  readonly #lines!: InitLines | null;
  #headers: Headers | undefined;
  #used = false;
  #real: Response | undefined;

  constructor(body?: BodyInit | null, init?: ResponseInit) {
    // A class constructor may return another object: the runtime's own, where the look-alike cannot pass.
    if (setup !== WORKS && setup !== PROBING && !setUp()) return new RealResponse(body, init) as unknown as LazyResponse;
    const status = init?.status === undefined ? 200 : unsignedShort(init.status);
    const statusText = init?.statusText === undefined ? '' : String(init.statusText);
    if (!isPlain(body)) {
      // A stream or another body kind: the real Response from the start (the server reads its stream).
      this.#body = null;
      this.#real = new RealResponse(body, init);
      LazyResponse.built++;
      this.#status = this.#real.status;
      this.#statusText = this.#real.statusText;
      this.#lines = null;
      return;
    }
    // The bytes are copied, as the real constructor copies them: the app may reuse its array.
    const b = body === undefined || body === null ? null
      : typeof body === 'string' ? body
        : body instanceof ArrayBuffer ? new Uint8Array(body.slice(0)) : new Uint8Array(body);
    checkInit(status, statusText, b !== null);
    this.#body = b;
    this.#status = status;
    this.#statusText = statusText;
    // The content-type the real Response would add when the init names none.
    const implicitType = typeof b === 'string' ? (jsonNext ? JSON_TYPE : TEXT_PLAIN) : '';
    this.#lines = takeInit(init?.headers as HeadersInitLike | undefined, implicitType);
  }

  /** Response.json(data, init): the body serialized now, content-type application/json unless init names one. */
  static json(data: unknown, init?: ResponseInit): Response {
    if (setup !== WORKS && !setUp()) return RealResponse.json(data, init);
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError('Value is not JSON serializable');
    jsonNext = true;
    try {
      return new LazyResponse(text, init) as unknown as Response;
    } finally {
      jsonNext = false;
    }
  }

  static redirect(url: string | URL, status?: number): Response {
    return globalThis.Response.redirect(url, status);
  }

  static error(): Response {
    return globalThis.Response.error();
  }

  /** The real Response, built from what this one keeps (once; later reads go to it). */
  #materialize(): Response {
    if (this.#real !== undefined) return this.#real;
    const headers = new Headers(this.headers);
    const init: ResponseInit = { status: this.#status, statusText: this.#statusText, headers };
    this.#real = new RealResponse(this.#body as BodyInit | null, init);
    LazyResponse.built++;
    if (this.#used) this.#real.arrayBuffer().catch(() => undefined); // read here already: the real one is used too
    return this.#real;
  }

  get status(): number { return this.#status; }
  get statusText(): string { return this.#statusText; }
  get ok(): boolean { return this.#status >= 200 && this.#status <= 299; }
  get type(): ResponseType { return this.#real?.type ?? 'default'; }
  get url(): string { return this.#real?.url ?? ''; }
  get redirected(): boolean { return this.#real?.redirected ?? false; }

  get headers(): Headers {
    if (this.#real !== undefined) return this.#real.headers;
    return (this.#headers ??= headersOf(this.#lines!));
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.#materialize().body;
  }

  get bodyUsed(): boolean {
    return this.#real !== undefined ? this.#real.bodyUsed : this.#used;
  }

  /** The body's bytes, read once (as the real one's are). */
  #take(): Uint8Array {
    const b = this.#body;
    if (b === null) return new Uint8Array(0); // no body: reading it uses nothing up
    if (this.#used) throw new TypeError('Body is unusable: body has already been read');
    this.#used = true;
    return typeof b === 'string' ? encoder.encode(b) : b; // our own copy, handed out once
  }

  async text(): Promise<string> {
    if (this.#real !== undefined) return this.#real.text();
    if (!this.#used && typeof this.#body === 'string') { this.#used = true; return this.#body; }
    return decoder.decode(this.#take());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    if (this.#real !== undefined) return this.#real.arrayBuffer();
    return this.#take().buffer as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array> {
    if (this.#real !== undefined) return new Uint8Array(await this.#real.arrayBuffer());
    return this.#take();
  }

  /**
   * @internal What the server writes, without building anything: the status,
   * the Headers if the app asked for them (it may have changed them), else
   * the header lines encoded at construction, and the body; null once the
   * real Response exists or the body was read (the server then goes through
   * the real one).
   */
  static parts(r: LazyResponse): ResponseParts | null {
    if (r.#real !== undefined || r.#used) return null;
    PARTS.status = r.#status;
    PARTS.headers = r.#headers;
    PARTS.lines = r.#lines!.bytes;
    PARTS.body = r.#body;
    r.#used = true; // the server has taken the body
    return PARTS;
  }

  /** @internal For the forwarded members below. */
  static real(r: LazyResponse): Response {
    return r.#materialize();
  }
}

/** One reused record: read at once by the writer, never kept. */
export interface ResponseParts {
  status: number;
  headers: Headers | undefined;
  /** The encoded header lines (the server's own fields left out). */
  lines: Uint8Array;
  body: PlainBody;
}
const PARTS: ResponseParts = { status: 200, headers: undefined, lines: new Uint8Array(0), body: null };

// Node defines its Response as a getter that loads undici (about 7 MiB of
// RSS with the modules it pulls in: http, tls, http2, zlib, crypto), so
// nothing here reads it before a LazyResponse is made: a fast-path server
// never pays for it. The look-alike is chained to the real prototype, and
// checked to pass for it, on the first construction (setUp()).
let RealResponse: typeof Response;
const OWN = new Set(Object.getOwnPropertyNames(LazyResponse.prototype));
const UNSET = 0, PROBING = 1, WORKS = 2, FAILS = 3;
let setup = UNSET;

/** Whether a LazyResponse passes for a Response here (instanceof, clone, the runtime reading it as a body). */
function lazyWorks(): boolean {
  try {
    forwardRest(LazyResponse.prototype, RealResponse.prototype, OWN, LazyResponse.real, new RealResponse(null));
    const lazy = new LazyResponse('hi', { status: 201, headers: { 'x-a': 'b' } }) as unknown as Response;
    const copy = lazy.clone();
    return lazy instanceof RealResponse && copy.status === 201 && copy.headers.get('x-a') === 'b' &&
      copy.headers.get('content-type') === TEXT_PLAIN && lazy.headers.get('content-type') === TEXT_PLAIN;
  } catch {
    return false;
  }
}

/** Chains and probes the look-alike once; false where it cannot pass (LazyResponse then builds real ones). */
function setUp(): boolean {
  if (setup === UNSET) {
    setup = PROBING; // the probe constructs a LazyResponse itself
    RealResponse = globalThis.Response;
    const ok = lazyWorks();
    setup = ok ? WORKS : FAILS;
    if (!ok) lazyResponses = false;
  }
  return setup !== FAILS;
}

const v = (globalThis as { process?: { versions?: Record<string, string | undefined> } }).process?.versions;
const nativeResponse = v?.bun !== undefined || v?.deno !== undefined || 'Deno' in globalThis;

/**
 * True where `Response` from 'zergling/http' is the lazy one (Node); elsewhere
 * it is the runtime's own. `in`, not a read: reading Node's global loads undici.
 * Turns false (a live binding) if the first Response made shows that the
 * look-alike cannot pass for the runtime's; every one is then the real thing.
 */
export let lazyResponses: boolean = !nativeResponse && 'Response' in globalThis;

/**
 * A Web `Response` that the server writes without building the runtime's
 * (Node: several microseconds less per request). It is `instanceof Response`
 * and behaves as one; use it in place of the global in a `fetch` handler.
 */
export const LiteResponse: typeof Response = lazyResponses ? (LazyResponse as unknown as typeof Response) : globalThis.Response;
