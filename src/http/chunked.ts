// The chunked transfer coding of a request body (RFC 9112 §7.1): chunk sizes,
// extensions (validated, then ignored: no application uses them), data spans
// handed out as positions in the caller's buffer (no copy), trailer fields
// (validated, bounded, discarded). Incremental like the head parser: any byte
// may end a call.
import { CR, DQUOTE, BSLASH, COLON, EQ, FIELD, HEX, HTAB, LF, OWS, QDTEXT, QPAIR, SEMI, SP, TCHAR } from './chars.ts';
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
const C_STATES = 22;

/** Hex digits of a chunk size, leading zeros included: 15 keep it a safe integer. */
const MAX_SIZE_DIGITS = 15;

// ---- The states that only move on bytes: extensions, line ends, trailer fields.
// Each is a list of rules; the first whose byte or class matches names the next
// state, and any other byte refuses the body (400) with the state's reason. A
// table rather than a case per state: the rules read like the ABNF, and one
// lookup serves every state. The other states count, hand out data or end the
// body, and are cases of decode().

/** [a byte or a class (a 256-entry table of 1s), the next state, AGAIN: that state reads the same byte]. */
type Rule = readonly [on: number | Uint8Array, next: number, again?: typeof AGAIN];
const AGAIN = true;

/** TRANSITIONS[state << 8 | byte]: the next state, CONSUMED if the byte is used up; C_ERROR: refused. */
const TRANSITIONS = new Uint8Array(C_STATES << 8).fill(C_ERROR);
const CONSUMED = 0x80;
const NEXT_STATE = 0x7f;
const REFUSALS = new Array<string>(C_STATES).fill('');

function rules(state: number, refusal: string, ...list: Rule[]): void {
  REFUSALS[state] = refusal;
  for (let c = 0; c < 256; c++) {
    const r = list.find(([on]) => (typeof on === 'number' ? on === c : on[c] === 1));
    if (r !== undefined) TRANSITIONS[(state << 8) | c] = r[1] | (r[2] === AGAIN ? 0 : CONSUMED);
  }
}

// chunk-size [ BWS ";" ... ]: whitespace after a size must lead to an extension
rules(C_SIZE_BWS, 'bad chunk size', [OWS, C_SIZE_BWS], [SEMI, C_EXT_NAME_START]);
// chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ), ext-val = token / quoted-string
rules(C_EXT_NAME_START, 'bad chunk extension', [OWS, C_EXT_NAME_START], [TCHAR, C_EXT_NAME, AGAIN]);
rules(C_EXT_NAME, 'bad chunk extension',
  [TCHAR, C_EXT_NAME], [EQ, C_EXT_VALUE_START], [SEMI, C_EXT_NAME_START], [OWS, C_EXT_AFTER_NAME], [CR, C_SIZE_LF]);
rules(C_EXT_AFTER_NAME, 'bad chunk extension',
  [OWS, C_EXT_AFTER_NAME], [EQ, C_EXT_VALUE_START], [SEMI, C_EXT_NAME_START], [CR, C_SIZE_LF]);
rules(C_EXT_VALUE_START, 'bad chunk extension value',
  [OWS, C_EXT_VALUE_START], [DQUOTE, C_EXT_QUOTED], [TCHAR, C_EXT_TOKEN, AGAIN]);
rules(C_EXT_TOKEN, 'bad chunk extension value',
  [TCHAR, C_EXT_TOKEN], [SEMI, C_EXT_NAME_START], [OWS, C_EXT_AFTER_VALUE], [CR, C_SIZE_LF]);
rules(C_EXT_QUOTED, 'bad chunk extension value', [DQUOTE, C_EXT_AFTER_VALUE], [BSLASH, C_EXT_QUOTED_PAIR], [QDTEXT, C_EXT_QUOTED]);
rules(C_EXT_QUOTED_PAIR, 'bad chunk extension value', [QPAIR, C_EXT_QUOTED]);
rules(C_EXT_AFTER_VALUE, 'bad chunk extension', [OWS, C_EXT_AFTER_VALUE], [SEMI, C_EXT_NAME_START], [CR, C_SIZE_LF]);
// chunk-data CRLF
rules(C_DATA_CR, 'chunk data longer than its size', [CR, C_DATA_LF]);
rules(C_DATA_LF, 'CR without LF after chunk data', [LF, C_SIZE_FIRST]);
// trailer-section = *( field-line CRLF ), then the last CRLF (C_END_LF)
rules(C_TRAILER_START, 'bad trailer field', [CR, C_END_LF], [TCHAR, C_TRAILER_NAME, AGAIN]);
rules(C_TRAILER_NAME, 'bad trailer field name', [TCHAR, C_TRAILER_NAME], [COLON, C_TRAILER_VALUE]);
rules(C_TRAILER_VALUE, 'control character in a trailer field', [FIELD, C_TRAILER_VALUE], [CR, C_TRAILER_LF]);
rules(C_TRAILER_LF, 'CR without LF in a trailer field', [LF, C_TRAILER_START]);

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
      const st = this.#state;
      switch (st) {
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
        case C_END_LF:
          if (c !== LF) return this.fail(400, 'CR without LF after the trailer section');
          this.#state = C_DONE;
          this.done = true;
          return p + 1;
        case C_DONE:
          return p;
        case C_ERROR:
          return -1;
        default: { // the states of TRANSITIONS
          const t = TRANSITIONS[(st << 8) | c]!;
          if (t === C_ERROR) return this.fail(400, REFUSALS[st]!);
          this.#state = t & NEXT_STATE;
          if ((t & CONSUMED) !== 0) p++;
        }
      }
      // Extension and trailer bytes are not body bytes, yet cost work: bounded per body.
      const after = this.#state;
      if ((after >= C_EXT_NAME_START && after <= C_EXT_AFTER_VALUE) || after === C_SIZE_BWS) {
        if (++this.#ext > this.maxMetaSize) return this.fail(400, 'chunk extensions too long');
      } else if (after >= C_TRAILER_START && after <= C_TRAILER_LF) {
        if (++this.#trailer > this.maxMetaSize) return this.fail(431, 'trailer section too large');
      }
    }
    return p;
  }
}
