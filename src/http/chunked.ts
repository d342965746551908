// The chunked transfer coding of a request body (RFC 9112 §7.1): chunk sizes,
// extensions (validated, then ignored: no application uses them), data spans
// handed out as positions in the caller's buffer (no copy), trailer fields
// (validated, bounded, discarded). Incremental like the head parser: any byte
// may end a call.
import { CR, DQUOTE, BSLASH, COLON, EQ, FIELD, HEX, HTAB, LF, QDTEXT, QPAIR, SEMI, SP, TCHAR } from './chars.ts';
import { Outcome } from './outcome.ts';

const C_SIZE_FIRST = 0;
const C_SIZE = 1;
const C_EXT_NAME_START = 2;
const C_EXT_NAME = 3;
const C_EXT_AFTER_NAME = 4;
const C_EXT_VALUE_START = 5;
const C_EXT_TOKEN = 6;
const C_EXT_QUOTED = 7;
const C_EXT_QUOTED_PAIR = 8;
const C_EXT_AFTER_VALUE = 9;
const C_SIZE_LF = 10;
const C_DATA = 11;
const C_DATA_CR = 12;
const C_DATA_LF = 13;
const C_TRAILER_START = 14;
const C_TRAILER_NAME = 15;
const C_TRAILER_VALUE = 16;
const C_TRAILER_LF = 17;
const C_END_LF = 18;
const C_DONE = 19;
const C_ERROR = 20;
const C_SIZE_BWS = 21;

/** Hex digits of a chunk size, leading zeros included: 15 keep it a safe integer. */
const MAX_SIZE_DIGITS = 15;

export class ChunkedDecoder extends Outcome {
  /** Body bytes allowed in all (413 beyond). */
  maxBodySize: number;
  /** Bytes of chunk extensions (400 beyond) and of trailer fields (431 beyond) per body. */
  maxMetaSize: number;
  /** The data span found by the last `decode()`, if dataLen > 0. */
  dataStart = 0;
  dataLen = 0;
  /** Body bytes decoded so far. */
  received = 0;

  #state = C_SIZE_FIRST;
  #digits = 0;
  #size = 0;
  #left = 0;
  #ext = 0;
  #trailer = 0;

  constructor(maxBodySize: number, maxMetaSize: number) {
    super();
    this.maxBodySize = maxBodySize;
    this.maxMetaSize = maxMetaSize;
  }

  reset(): void {
    this.resetOutcome();
    this.dataLen = 0;
    this.received = 0;
    this.#state = C_SIZE_FIRST;
    this.#digits = 0;
    this.#size = 0;
    this.#ext = 0;
    this.#trailer = 0;
  }

  protected override fail(status: number, reason: string): number {
    this.#state = C_ERROR;
    return super.fail(status, reason);
  }

  /**
   * Consumes buf[pos, end) up to and including the next data span (then
   * `dataLen` > 0 and it lies at buf[dataStart, dataStart + dataLen)) or the
   * end of the body (`done`). Returns the position after what it consumed, or
   * -1 (`error` is the status to answer with).
   */
  decode(buf: Uint8Array, pos: number, end: number): number {
    this.dataLen = 0;
    let p = pos;
    while (p < end) {
      const c = buf[p]!;
      switch (this.#state) {
        case C_SIZE_FIRST:
          if (HEX[c] === 255) return this.fail(400, 'bad chunk size');
          this.#size = 0;
          this.#digits = 0;
          this.#state = C_SIZE;
          break; // the same byte again, as a digit
        case C_SIZE: {
          const h = HEX[c]!;
          if (h !== 255) {
            if (++this.#digits > MAX_SIZE_DIGITS) return this.fail(400, 'chunk size too long');
            this.#size = this.#size * 16 + h;
            p++;
          } else if (c === CR) {
            this.#state = C_SIZE_LF;
            p++;
          } else if (c === SEMI) {
            this.#state = C_EXT_NAME_START;
            p++;
          } else if (c === SP || c === HTAB) {
            this.#state = C_SIZE_BWS;
            p++;
          } else {
            return this.fail(400, 'bad chunk size');
          }
          break;
        }
        case C_SIZE_BWS: // whitespace after a size must lead to an extension (BWS ";")
          if (c === SP || c === HTAB) { p++; break; }
          if (c !== SEMI) return this.fail(400, 'bad chunk size');
          this.#state = C_EXT_NAME_START;
          p++;
          break;
        case C_EXT_NAME_START:
          if (c === SP || c === HTAB) { p++; break; }
          if (TCHAR[c] !== 1) return this.fail(400, 'bad chunk extension');
          this.#state = C_EXT_NAME;
          break;
        case C_EXT_NAME:
          if (TCHAR[c] === 1) { p++; break; }
          if (c === EQ) this.#state = C_EXT_VALUE_START;
          else if (c === SEMI) this.#state = C_EXT_NAME_START;
          else if (c === SP || c === HTAB) this.#state = C_EXT_AFTER_NAME;
          else if (c === CR) this.#state = C_SIZE_LF;
          else return this.fail(400, 'bad chunk extension');
          p++;
          break;
        case C_EXT_AFTER_NAME:
          if (c === SP || c === HTAB) { p++; break; }
          if (c === EQ) this.#state = C_EXT_VALUE_START;
          else if (c === SEMI) this.#state = C_EXT_NAME_START;
          else if (c === CR) this.#state = C_SIZE_LF;
          else return this.fail(400, 'bad chunk extension');
          p++;
          break;
        case C_EXT_VALUE_START:
          if (c === SP || c === HTAB) { p++; break; }
          if (c === DQUOTE) { this.#state = C_EXT_QUOTED; p++; break; }
          if (TCHAR[c] !== 1) return this.fail(400, 'bad chunk extension value');
          this.#state = C_EXT_TOKEN;
          break;
        case C_EXT_TOKEN:
          if (TCHAR[c] === 1) { p++; break; }
          if (c === SEMI) this.#state = C_EXT_NAME_START;
          else if (c === SP || c === HTAB) this.#state = C_EXT_AFTER_VALUE;
          else if (c === CR) this.#state = C_SIZE_LF;
          else return this.fail(400, 'bad chunk extension value');
          p++;
          break;
        case C_EXT_QUOTED:
          if (c === DQUOTE) this.#state = C_EXT_AFTER_VALUE;
          else if (c === BSLASH) this.#state = C_EXT_QUOTED_PAIR;
          else if (QDTEXT[c] !== 1) return this.fail(400, 'bad chunk extension value');
          p++;
          break;
        case C_EXT_QUOTED_PAIR:
          if (QPAIR[c] !== 1) return this.fail(400, 'bad chunk extension value');
          this.#state = C_EXT_QUOTED;
          p++;
          break;
        case C_EXT_AFTER_VALUE:
          if (c === SP || c === HTAB) { p++; break; }
          if (c === SEMI) this.#state = C_EXT_NAME_START;
          else if (c === CR) this.#state = C_SIZE_LF;
          else return this.fail(400, 'bad chunk extension');
          p++;
          break;
        case C_SIZE_LF:
          if (c !== LF) return this.fail(400, 'CR without LF in a chunk header');
          p++;
          if (this.#size === 0) {
            this.#state = C_TRAILER_START;
          } else {
            if (this.received + this.#size > this.maxBodySize) return this.fail(413, 'body too large');
            this.#left = this.#size;
            this.#state = C_DATA;
          }
          break;
        case C_DATA: {
          const n = Math.min(this.#left, end - p);
          this.dataStart = p;
          this.dataLen = n;
          this.#left -= n;
          this.received += n;
          p += n;
          if (this.#left === 0) this.#state = C_DATA_CR;
          return p;
        }
        case C_DATA_CR:
          if (c !== CR) return this.fail(400, 'chunk data longer than its size');
          this.#state = C_DATA_LF;
          p++;
          break;
        case C_DATA_LF:
          if (c !== LF) return this.fail(400, 'CR without LF after chunk data');
          this.#state = C_SIZE_FIRST;
          p++;
          break;
        case C_TRAILER_START:
          if (c === CR) { this.#state = C_END_LF; p++; break; }
          if (TCHAR[c] !== 1) return this.fail(400, 'bad trailer field');
          this.#state = C_TRAILER_NAME;
          break;
        case C_TRAILER_NAME:
          if (TCHAR[c] === 1) { p++; break; }
          if (c !== COLON) return this.fail(400, 'bad trailer field name');
          this.#state = C_TRAILER_VALUE;
          p++;
          break;
        case C_TRAILER_VALUE:
          if (FIELD[c] === 1) { p++; break; }
          if (c !== CR) return this.fail(400, 'control character in a trailer field');
          this.#state = C_TRAILER_LF;
          p++;
          break;
        case C_TRAILER_LF:
          if (c !== LF) return this.fail(400, 'CR without LF in a trailer field');
          this.#state = C_TRAILER_START;
          p++;
          break;
        case C_END_LF:
          if (c !== LF) return this.fail(400, 'CR without LF after the trailer section');
          this.#state = C_DONE;
          this.done = true;
          return p + 1;
        case C_DONE:
          return p;
        default:
          return -1;
      }
      // Extension and trailer bytes are not body bytes, yet cost work: bounded per body.
      const st = this.#state;
      if ((st >= C_EXT_NAME_START && st <= C_EXT_AFTER_VALUE) || st === C_SIZE_BWS) {
        if (++this.#ext > this.maxMetaSize) return this.fail(400, 'chunk extensions too long');
      } else if (st >= C_TRAILER_START && st <= C_TRAILER_LF) {
        if (++this.#trailer > this.maxMetaSize) return this.fail(431, 'trailer section too large');
      }
    }
    return p;
  }
}
