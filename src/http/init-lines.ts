// The header lines of a Response made from a headers init (a record, a list of
// pairs or a Headers), taken when the Response is made, as the real
// constructor takes them: a snapshot the app's later changes to its init do
// not reach, validated by the runtime's own Headers (a bad name or value
// throws its TypeError there and then), and encoded for the wire. A handler
// that builds every response alike (the common case) pays a few string
// compares per response: the 16 most recent inits are kept with their
// encoding and found again by comparing names and values.

/** A headers init as the Response constructor takes it. */
export type HeadersInitLike = Headers | ReadonlyArray<readonly [string, string]> | Record<string, string>;

/** Response fields the server writes itself (framing, connection, Date): left out of the encoded lines. */
export const SERVER_FIELDS: ReadonlySet<string> = new Set(['connection', 'transfer-encoding', 'content-length', 'keep-alive', 'date']);

/** An init as taken: immutable, shared by every response made from an equal init. */
export interface InitLines {
  /** Names and values as given (or as a Headers lists them): what a `headers` read is built from. */
  readonly names: readonly string[];
  readonly values: readonly string[];
  /** The content-type to add when the names have none ('' for none). */
  readonly implicitType: string;
  /** `name: value\r\n` lines, SERVER_FIELDS left out. */
  readonly bytes: Uint8Array;
}

const RECENT_MAX = 16;
/** Most recent first; a hit moves nothing (the order only decides what goes when full). */
const recent: InitLines[] = [];
/** Longer inits (cookies, per-response values) are encoded each time, not kept. */
const ENTRY_CHARS_MAX = 1024;

function matches(e: InitLines, init: HeadersInitLike | undefined, implicitType: string): boolean {
  if (e.implicitType !== implicitType) return false;
  const names = e.names, values = e.values;
  if (init === undefined) return names.length === 0;
  let i = 0;
  if (Array.isArray(init)) {
    const pairs = init as ReadonlyArray<readonly [string, string]>;
    if (pairs.length !== names.length) return false;
    for (; i < pairs.length; i++) {
      const p = pairs[i]!;
      if (p.length !== 2 || p[0] !== names[i] || p[1] !== values[i]) return false;
    }
    return true;
  }
  const o = init as Record<string, unknown>;
  for (const n in o) {
    if (!Object.hasOwn(o, n)) continue;
    if (i >= names.length || n !== names[i] || o[n] !== values[i]) return false;
    i++;
  }
  return i === names.length;
}

/** The init's names and values if they are all strings (then the entry can be matched again), else undefined. */
function stringPairs(init: HeadersInitLike | undefined): { names: string[]; values: string[]; chars: number } | undefined {
  const names: string[] = [], values: string[] = [];
  let chars = 0;
  if (init !== undefined) {
    const pairs: Iterable<readonly [unknown, unknown]> = Array.isArray(init)
      ? init as ReadonlyArray<readonly [string, string]>
      : Object.entries(init as Record<string, unknown>);
    for (const p of pairs) {
      if (typeof p[0] !== 'string' || typeof p[1] !== 'string') return undefined;
      names.push(p[0]);
      values.push(p[1]);
      chars += p[0].length + p[1].length;
    }
  }
  return { names, values, chars };
}

/**
 * Takes `init` (plus `content-type: implicitType` when it names none and
 * implicitType is not ''). Throws the runtime's TypeError for a name or
 * value a Response would refuse.
 */
export function takeInit(init: HeadersInitLike | undefined, implicitType: string): InitLines {
  const isHeaders = init instanceof Headers;
  if (!isHeaders) {
    for (let i = 0; i < recent.length; i++) if (matches(recent[i]!, init, implicitType)) return recent[i]!;
  }
  const h = new Headers(init as HeadersInit | undefined);
  if (implicitType !== '' && !h.has('content-type')) h.set('content-type', implicitType);
  let lines = '';
  const hn: string[] = [], hv: string[] = [];
  h.forEach((value, name) => {
    hn.push(name);
    hv.push(value);
    if (!SERVER_FIELDS.has(name)) lines += `${name}: ${value}\r\n`;
  });
  const bytes = Buffer.from(lines, 'latin1');
  const given = isHeaders ? undefined : stringPairs(init);
  if (given === undefined || given.chars > ENTRY_CHARS_MAX) {
    return { names: hn, values: hv, implicitType: '', bytes }; // as the Headers lists them (content-type included)
  }
  const e: InitLines = { names: given.names, values: given.values, implicitType, bytes };
  if (recent.length >= RECENT_MAX) recent.pop();
  recent.unshift(e);
  return e;
}

/** A fresh Headers with what `lines` took (the app may change it). */
export function headersOf(lines: InitLines): Headers {
  const h = new Headers();
  for (let i = 0; i < lines.names.length; i++) h.append(lines.names[i]!, lines.values[i]!);
  if (lines.implicitType !== '' && !h.has('content-type')) h.set('content-type', lines.implicitType);
  return h;
}
