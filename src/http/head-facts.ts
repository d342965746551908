// What a request head says, and the rules for the fields that decide it:
// framing (Content-Length, Transfer-Encoding), persistence (Connection,
// the version), Host and Expect. HeadParser (parser.ts) extends this with the
// byte-level state machine; the split keeps "which bytes are a field" apart
// from "what the field means" (the parser finds a field line, field() records
// where it lies and what it says). A base class rather than a helper object: the
// parser calls field() once per header line, and a prototype method on the
// same receiver costs nothing an extra object and load would.
import { COMMA, HTAB, SP, TCHAR, eqLower } from './chars.ts';
import { Outcome } from './outcome.ts';

export interface HeadLimits {
  /** Request line + header fields + the empty line, bytes. */
  maxHeaderSize: number;
  /** Header field lines. */
  maxHeaders: number;
  /** Request-target bytes. */
  maxUrlSize: number;
  /** Declared or received body bytes. */
  maxBodySize: number;
}

/** Content-Length digits beyond which the value cannot fit a safe integer. */
const MAX_LENGTH_DIGITS = 15;

export class HeadFacts extends Outcome {
  readonly limits: HeadLimits;
  // ---- results (valid once `done`; `error` and `reason` are Outcome's)
  methodStart = 0;
  methodEnd = 0;
  targetStart = 0;
  targetEnd = 0;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 (and 1.x, treated as 1.1: RFC 9110 §2.5). */
  minor = 1;
  /** Header fields: [nameStart, nameEnd, valueStart, valueEnd] per field (value without surrounding OWS). */
  readonly fields: Int32Array;
  fieldCount = 0;
  /** Declared Content-Length, or -1. */
  contentLength = -1;
  chunked = false;
  /** The connection may carry another request after this one. */
  keepAlive = true;
  expectContinue = false;
  /** The position of the request line's first byte. */
  headStart = 0;

  // ---- what the fields seen so far said
  /** Host field lines seen (the parser counts the common single Host itself, without a call). */
  protected hosts = 0;
  #close = false;
  #keepAliveToken = false;
  #te = 0; // Transfer-Encoding field lines seen
  #teChunked = 0;
  #teLastChunked = false;
  #teOther = false;

  constructor(limits: HeadLimits) {
    super();
    this.limits = limits;
    this.fields = new Int32Array(limits.maxHeaders * 4);
  }

  /** Forgets what the previous request's fields said (HeadParser.reset). */
  protected resetFacts(): void {
    this.resetOutcome();
    this.minor = 1;
    this.fieldCount = 0;
    this.contentLength = -1;
    this.chunked = false;
    this.keepAlive = true;
    this.expectContinue = false;
    this.hosts = 0;
    this.#close = false;
    this.#keepAliveToken = false;
    this.#te = 0;
    this.#teChunked = 0;
    this.#teLastChunked = false;
    this.#teOther = false;
  }

  /** Records where a field line's name and value (without surrounding OWS) lie. */
  protected record(ns: number, ne: number, vs: number, ve: number): void {
    const i = this.fieldCount++ * 4, f = this.fields;
    f[i] = ns;
    f[i + 1] = ne;
    f[i + 2] = vs;
    f[i + 3] = ve;
  }

  /**
   * One field line: recorded in `fields` (its name, and its value without
   * surrounding OWS), then its framing and connection facts. False: refused.
   */
  protected field(buf: Uint8Array, ns: number, ne: number, vs: number, ve: number): boolean {
    this.record(ns, ne, vs, ve);
    switch (ne - ns) {
      case 4:
        if (eqLower(buf, ns, ne, 'host') && ++this.hosts > 1) { this.fail(400, 'more than one Host'); return false; }
        return true;
      case 6:
        if (!eqLower(buf, ns, ne, 'expect')) return true;
        if (!eqLower(buf, vs, ve, '100-continue')) { this.fail(417, 'unsupported expectation'); return false; }
        this.expectContinue = true;
        return true;
      case 10:
        if (eqLower(buf, ns, ne, 'connection')) this.#connection(buf, vs, ve);
        return true;
      case 14: {
        if (!eqLower(buf, ns, ne, 'content-length')) return true;
        if (this.contentLength >= 0) { this.fail(400, 'more than one Content-Length'); return false; }
        if (vs === ve) { this.fail(400, 'empty Content-Length'); return false; }
        let n = 0;
        for (let i = vs; i < ve; i++) {
          const d = buf[i]! - 0x30;
          if (d < 0 || d > 9) { this.fail(400, 'Content-Length is not a number'); return false; }
          n = n * 10 + d;
        }
        if (ve - vs > MAX_LENGTH_DIGITS || n > this.limits.maxBodySize) { this.fail(413, 'body too large'); return false; }
        this.contentLength = n;
        return true;
      }
      case 17:
        if (eqLower(buf, ns, ne, 'transfer-encoding')) return this.#transferEncoding(buf, vs, ve);
        return true;
      default:
        return true;
    }
  }

  #connection(buf: Uint8Array, vs: number, ve: number): void {
    let i = vs;
    while (i < ve) {
      while (i < ve && (buf[i] === SP || buf[i] === HTAB || buf[i] === COMMA)) i++;
      const s = i;
      while (i < ve && buf[i] !== COMMA && buf[i] !== SP && buf[i] !== HTAB) i++;
      if (eqLower(buf, s, i, 'close')) this.#close = true;
      else if (eqLower(buf, s, i, 'keep-alive')) this.#keepAliveToken = true;
    }
  }

  /** A list of codings (RFC 9112 §6.1): each element a token, possibly with parameters. */
  #transferEncoding(buf: Uint8Array, vs: number, ve: number): boolean {
    this.#te++;
    let i = vs;
    let elements = 0;
    while (i <= ve) {
      while (i < ve && (buf[i] === SP || buf[i] === HTAB)) i++;
      const s = i;
      while (i < ve && TCHAR[buf[i]!] === 1) i++;
      const e = i;
      while (i < ve && (buf[i] === SP || buf[i] === HTAB)) i++;
      if (i < ve && buf[i] !== COMMA) {
        // a parameter (";q=...") or garbage: neither is a coding we honour, and
        // leniency here is what smuggling vectors count on
        this.fail(400, 'malformed Transfer-Encoding');
        return false;
      }
      if (s === e) {
        if (i < ve) { i++; continue; } // an empty list element (",,") is allowed and ignored
        break;
      }
      elements++;
      if (eqLower(buf, s, e, 'chunked')) { this.#teChunked++; this.#teLastChunked = true; } else { this.#teOther = true; this.#teLastChunked = false; }
      i++;
    }
    if (elements === 0) { this.fail(400, 'empty Transfer-Encoding'); return false; }
    return true;
  }

  /** The whole head is in: decide framing and persistence. False: refused. */
  protected finish(): boolean {
    if (this.minor === 1 && this.hosts === 0) { this.fail(400, 'missing Host'); return false; }
    if (this.#te > 0) {
      if (this.minor === 0) { this.fail(400, 'Transfer-Encoding in an HTTP/1.0 request'); return false; }
      if (this.contentLength >= 0) { this.fail(400, 'both Content-Length and Transfer-Encoding'); return false; }
      if (this.#teChunked !== 1 || !this.#teLastChunked) {
        this.fail(400, 'Transfer-Encoding must end with one chunked');
        return false;
      }
      if (this.#teOther) { this.fail(501, 'transfer codings other than chunked are not implemented'); return false; }
      this.chunked = true;
    }
    this.keepAlive = !this.#close && (this.minor === 1 || this.#keepAliveToken);
    return true;
  }
}
