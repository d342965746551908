// The request-head parser (RFC 9112 §2–§6): request line and header fields,
// incremental over whatever bytes arrive. It never copies and never
// allocates: it records where tokens lie (indexes into the buffer it was
// given) and the framing facts the server needs, and keeps its state when
// the bytes end mid-head, so a head split at any byte costs one pass.
//
// Strict where leniency is how requests get smuggled: CRLF only (a bare CR
// or LF is refused), no whitespace before a field's colon, no obs-fold, one
// Content-Length of plain digits, Transfer-Encoding exactly "chunked" and
// never with Content-Length, exactly one Host in HTTP/1.1. What each field
// means (those rules) lives in head-facts.ts; this file finds the fields.
import { CR, COLON, HTAB, LF, SP, TARGET as TARGET_TABLE, TCHAR as TCHAR_TABLE, eqLower } from './chars.ts';
import { HeadFacts, type HeadLimits } from './head-facts.ts';

export type { HeadLimits } from './head-facts.ts';

// Module-local copies of the byte tables: V8 folds a local const into the
// optimized code, but reloads an imported binding's cell on every byte.
const TCHAR = TCHAR_TABLE;
const TARGET = TARGET_TABLE;

// States. Numbers, not strings: the switch compiles to a jump table.
const S_LEADING = 0; // optional empty lines before the request line (RFC 9112 §2.2)
const S_LEADING_LF = 1;
const S_METHOD = 2;
const S_TARGET = 3;
const S_VERSION = 4;
const S_LINE_LF = 5;
const S_FIELD_START = 6;
const S_NAME = 7;
const S_VALUE_LEAD = 8;
const S_VALUE = 9;
const S_VALUE_LF = 10;
const S_END_LF = 11;
const S_DONE = 12;
const S_ERROR = 13;

/** At most this many empty lines are skipped before a request line. */
const MAX_LEADING_LINES = 4;

/** Interned method strings: reading `method` of a common request allocates nothing. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'];

export class HeadParser extends HeadFacts {
  // ---- state
  #state = S_LEADING;
  #leading = 0;
  #tok = 0;
  #lastNonWs = 0;
  #nameStart = 0;
  #nameEnd = 0;
  /** The method was the common GET, seen without the scan (method() then compares nothing). */
  #get = false;

  constructor(limits: HeadLimits) {
    super(limits);
  }

  reset(): void {
    this.resetFacts();
    this.#state = S_LEADING;
    this.#leading = 0;
  }

  /** True before the first byte of a request line (only empty lines so far, if any). */
  get idle(): boolean {
    return this.#state === S_LEADING || this.#state === S_LEADING_LF;
  }

  /** True while the request line's target is being read (an over-long head is then 414, not 431). */
  get inTarget(): boolean {
    return this.#state === S_TARGET || this.#state === S_METHOD;
  }

  /** Moves every recorded position by `delta`: the caller copied the partial head elsewhere. */
  rebase(delta: number): void {
    this.headStart += delta;
    this.methodStart += delta;
    this.methodEnd += delta;
    this.targetStart += delta;
    this.targetEnd += delta;
    this.#tok += delta;
    this.#lastNonWs += delta;
    this.#nameStart += delta;
    this.#nameEnd += delta;
    const f = this.fields;
    for (let i = 0, n = this.fieldCount * 4; i < n; i++) f[i]! += delta;
  }

  /** The method as a string: interned for the common ones. */
  method(buf: Uint8Array): string {
    if (this.#get) return 'GET';
    const s = this.methodStart, n = this.methodEnd - s;
    for (let i = 0; i < METHODS.length; i++) {
      const m = METHODS[i]!;
      if (m.length !== n) continue;
      let j = 0;
      while (j < n && buf[s + j] === m.charCodeAt(j)) j++;
      if (j === n) return m;
    }
    let out = '';
    for (let i = s; i < this.methodEnd; i++) out += String.fromCharCode(buf[i]!);
    return out;
  }

  protected override fail(status: number, reason: string): number {
    this.#state = S_ERROR;
    return super.fail(status, reason);
  }

  /**
   * Parses buf[pos, end). Returns the position after the bytes it consumed
   * (the first body byte when the head ended: `done`), or -1 when the request
   * is refused (`error`, `reason`). Call again with the next bytes when it
   * returns `end` without `done`; positions stay indexes into the same buffer.
   */
  execute(buf: Uint8Array, pos: number, end: number): number {
    let p = pos;
    const lim = this.limits;
    // Locals while parsing (stored back on every exit): field reads and
    // writes of `this` per token cost more than the bytes between tokens.
    let st = this.#state, tok = this.#tok, lastNonWs = this.#lastNonWs, nameStart = this.#nameStart, nameEnd = this.#nameEnd;
    while (p < end) {
      switch (st) {
        case S_LEADING: {
          const c = buf[p]!;
          if (c === CR) { st = S_LEADING_LF; p++; break; }
          if (c === LF) return this.fail(400, 'bare LF');
          this.headStart = p;
          this.methodStart = p;
          st = S_METHOD;
          break;
        }
        case S_LEADING_LF:
          if (buf[p] !== LF) return this.fail(400, 'CR without LF');
          if (++this.#leading > MAX_LEADING_LINES) return this.fail(400, 'too many empty lines before the request line');
          st = S_LEADING;
          p++;
          break;
        case S_METHOD: {
          // GET, the common method, without the scan (its bytes are tchars).
          if (p === this.methodStart && p + 3 < end && buf[p] === 0x47 && buf[p + 1] === 0x45 && buf[p + 2] === 0x54 && buf[p + 3] === SP) {
            p += 3;
            this.#get = true;
          } else {
            this.#get = false;
            while (p < end && TCHAR[buf[p]!] === 1) p++;
          }
          if (p === end) break;
          if (buf[p] !== SP || p === this.methodStart) return this.fail(400, 'bad method');
          this.methodEnd = p;
          p++;
          this.targetStart = p;
          st = S_TARGET;
          break;
        }
        case S_TARGET: {
          while (p < end && TARGET[buf[p]!] === 1) p++;
          if (p - this.targetStart > lim.maxUrlSize) return this.fail(414, 'request-target too long');
          if (p === end) break;
          if (buf[p] !== SP || p === this.targetStart) return this.fail(400, 'bad request-target');
          this.targetEnd = p;
          const t0 = buf[this.targetStart]!;
          // origin-form, absolute-form, or '*' (asterisk-form, OPTIONS only); authority-form is CONNECT's, unsupported.
          if (t0 !== 0x2f && !(t0 === 0x2a && p - this.targetStart === 1) && !isAbsoluteForm(buf, this.targetStart, p)) {
            return this.fail(400, 'request-target is neither origin-form nor absolute-form');
          }
          p++;
          tok = p;
          st = S_VERSION;
          break;
        }
        case S_VERSION: {
          // The whole version in this buffer (the common case): no scan, CR is where it must be.
          if (p + 8 < end && buf[p + 8] === CR) p += 8;
          else while (p < end && buf[p] !== CR && p - tok < 9) p++;
          if (p === end) break;
          if (buf[p] !== CR) return this.fail(400, 'bad HTTP-version');
          const v = tok;
          if (p - v !== 8 || buf[v] !== 0x48 || buf[v + 1] !== 0x54 || buf[v + 2] !== 0x54 || buf[v + 3] !== 0x50 ||
            buf[v + 4] !== 0x2f || buf[v + 6] !== 0x2e) {
            return this.fail(400, 'bad HTTP-version');
          }
          const major = buf[v + 5]! - 0x30, minor = buf[v + 7]! - 0x30;
          if (major < 0 || major > 9 || minor < 0 || minor > 9) return this.fail(400, 'bad HTTP-version');
          if (major !== 1) return this.fail(505, `HTTP/${major}.${minor} is not supported`);
          this.minor = minor === 0 ? 0 : 1;
          st = S_LINE_LF;
          p++;
          break;
        }
        case S_LINE_LF:
          if (buf[p] !== LF) return this.fail(400, 'CR without LF');
          p++;
          st = S_FIELD_START;
          break;
        case S_FIELD_START: {
          const c = buf[p]!;
          if (c === CR) { st = S_END_LF; p++; break; }
          if (c === SP || c === HTAB) return this.fail(400, 'obs-fold or whitespace before a field name');
          if (this.fieldCount === lim.maxHeaders) return this.fail(431, 'too many header fields');
          nameStart = p;
          // The whole line in this buffer (the common case): one pass, no state
          // changes. Anything else (a line cut by the buffer's end, an error)
          // goes through the states from the name's first byte.
          let q = p;
          while (q < end && TCHAR[buf[q]!] === 1) q++;
          if (q < end && q > p && buf[q] === COLON) {
            const ne = q++;
            while (q < end && (buf[q] === SP || buf[q] === HTAB)) q++;
            const vs = q;
            let last = q, ch = 0;
            while (q < end) {
              ch = buf[q]!;
              if (ch > SP && ch !== 0x7f) { q++; last = q; continue; }
              if (ch !== SP && ch !== HTAB) break;
              q++;
            }
            if (ch === CR && q + 1 < end && buf[q + 1] === LF) {
              p = q + 2;
              if (p - this.headStart > lim.maxHeaderSize) return this.fail(431, 'header section too large');
              // The first Host, the field every HTTP/1.1 request has: recorded here, without the call.
              if (ne - nameStart === 4 && this.hosts === 0 && (buf[nameStart]! | 0x20) === 0x68 && (buf[nameStart + 1]! | 0x20) === 0x6f &&
                (buf[nameStart + 2]! | 0x20) === 0x73 && (buf[nameStart + 3]! | 0x20) === 0x74) {
                this.record(nameStart, ne, vs, last);
                this.hosts = 1;
                break;
              }
              if (!this.field(buf, nameStart, ne, vs, last)) return -1;
              break;
            }
          }
          st = S_NAME;
          break;
        }
        case S_NAME: {
          while (p < end && TCHAR[buf[p]!] === 1) p++;
          if (p === end) break;
          if (buf[p] !== COLON || p === nameStart) {
            return this.fail(400, buf[p] === SP || buf[p] === HTAB ? 'whitespace before a field colon' : 'bad field name');
          }
          nameEnd = p;
          p++;
          st = S_VALUE_LEAD;
          break;
        }
        case S_VALUE_LEAD: {
          while (p < end && (buf[p] === SP || buf[p] === HTAB)) p++;
          if (p === end) break;
          tok = p;
          lastNonWs = p; // an empty value: [p, p)
          st = S_VALUE;
          break;
        }
        case S_VALUE: {
          let last = lastNonWs;
          let c = 0;
          // Most value bytes are VCHAR or obs-text (> SP, not DEL): one compare each.
          while (p < end) {
            c = buf[p]!;
            if (c > SP && c !== 0x7f) { p++; last = p; continue; }
            if (c !== SP && c !== HTAB) break;
            p++;
          }
          lastNonWs = last;
          if (p === end) break;
          if (c !== CR) return this.fail(400, c === LF ? 'bare LF' : 'control character in a field value');
          p++;
          st = S_VALUE_LF;
          break;
        }
        case S_VALUE_LF: {
          if (buf[p] !== LF) return this.fail(400, 'CR without LF');
          p++;
          if (p - this.headStart > lim.maxHeaderSize) return this.fail(431, 'header section too large');
          if (!this.field(buf, nameStart, nameEnd, tok, lastNonWs)) return -1;
          st = S_FIELD_START;
          break;
        }
        case S_END_LF:
          if (buf[p] !== LF) return this.fail(400, 'CR without LF');
          p++;
          if (p - this.headStart > lim.maxHeaderSize) return this.fail(431, 'header section too large');
          if (!this.finish()) return -1;
          this.#state = S_DONE;
          this.done = true;
          return p;
        case S_DONE:
          return p;
        default:
          return -1;
      }
    }
    this.#state = st;
    this.#tok = tok;
    this.#lastNonWs = lastNonWs;
    this.#nameStart = nameStart;
    this.#nameEnd = nameEnd;
    if (st === S_TARGET && p - this.targetStart > lim.maxUrlSize) return this.fail(414, 'request-target too long');
    return p;
  }

}

/** scheme "://" with an http(s) scheme, case-insensitive. */
function isAbsoluteForm(buf: Uint8Array, s: number, e: number): boolean {
  if (e - s > 7 && eqLower(buf, s, s + 7, 'http://')) return true;
  return e - s > 8 && eqLower(buf, s, s + 8, 'https://');
}
