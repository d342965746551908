// Byte classes of RFC 9110/9112 as 256-entry tables: one indexed load per
// byte in the parsers' inner loops, no branches on ranges.
export const CR = 13;
export const LF = 10;
export const SP = 32;
export const HTAB = 9;
export const COLON = 58;
export const SEMI = 59;
export const EQ = 61;
export const DQUOTE = 34;
export const BSLASH = 92;
export const COMMA = 44;

function table(pred: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = pred(c) ? 1 : 0;
  return t;
}

const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** tchar (RFC 9110 §5.6.2): method names, header names, codings, extension names. */
export const TCHAR = table((c) => isAlpha(c) || isDigit(c) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)));

/** Whitespace of OWS and BWS (RFC 9110 §5.6.3). */
export const OWS = table((c) => c === SP || c === HTAB);

/** Bytes allowed inside a field value: VCHAR, obs-text, SP, HTAB (RFC 9110 §5.5). CTLs and DEL are not. */
export const FIELD = table((c) => c === SP || c === HTAB || (c >= 0x21 && c <= 0x7e) || c >= 0x80);

/**
 * Bytes of a request-target: visible ASCII only. Non-ASCII bytes are not URI
 * characters (RFC 3986) and clients percent-encode them; a raw one is refused.
 */
export const TARGET = table((c) => c >= 0x21 && c <= 0x7e);

/** qdtext and quoted-pair payload of a chunk extension's quoted-string. */
export const QDTEXT = table((c) => c === HTAB || c === SP || c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80);
export const QPAIR = table((c) => c === HTAB || c === SP || (c >= 0x21 && c <= 0x7e) || c >= 0x80);

/** Hex digit values, 255 for anything else. */
export const HEX = (() => {
  const t = new Uint8Array(256).fill(255);
  for (let i = 0; i < 10; i++) t[0x30 + i] = i;
  for (let i = 0; i < 6; i++) { t[0x41 + i] = 10 + i; t[0x61 + i] = 10 + i; }
  return t;
})();

/**
 * True if buf[start, start + s.length) equals the lower-case ASCII string
 * `s`, ignoring ASCII case in `buf`. `s` must be lower case.
 */
export function eqLower(buf: Uint8Array, start: number, end: number, s: string): boolean {
  const n = s.length;
  if (end - start !== n) return false;
  for (let i = 0; i < n; i++) {
    let c = buf[start + i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== s.charCodeAt(i)) return false;
  }
  return true;
}
