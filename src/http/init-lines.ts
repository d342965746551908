// The header lines of a Response made from a headers init (a record or a
// list of pairs), encoded once per distinct init and then copied: a handler
// that builds every response alike (the common case) pays a few string
// compares per response, not a Headers object and an encoding. Each entry is
// built through the runtime's Headers, so names and values are validated and
// normalized by its rules; what is cached is exactly what a real Response
// would have carried.

/** A headers init as the Response constructor takes it. */
export type HeadersInitLike = Headers | ReadonlyArray<readonly [string, string]> | Record<string, string>;

interface Entry {
  /** Names and values as given (compared by identity first: literals are interned). */
  readonly names: string[];
  readonly values: string[];
  readonly implicitType: string;
  readonly bytes: Uint8Array;
}

/** Most recent first; a hit moves nothing (the order only decides what goes when full). */
const RECENT_MAX = 16;
const recent: Entry[] = [];
/** Longer inits (cookies, per-response values) are encoded each time, not kept. */
const ENTRY_CHARS_MAX = 1024;

function matches(e: Entry, init: HeadersInitLike | undefined, implicitType: string): boolean {
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

/** The init's names and values as strings, or undefined when it is not a plain record or list of string pairs. */
function entryOf(init: HeadersInitLike | undefined, implicitType: string, bytes: Uint8Array): Entry | undefined {
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
  return chars > ENTRY_CHARS_MAX ? undefined : { names, values, implicitType, bytes };
}

/**
 * `name: value\r\n` lines for `init` (plus `content-type: implicitType` when
 * the init names none and implicitType is not ''), leaving out the names in
 * `skip` (the fields the server writes itself). Throws the runtime's
 * TypeError for a name or value a Response would refuse.
 */
export function linesOfInit(init: HeadersInitLike | undefined, implicitType: string, skip: ReadonlySet<string>): Uint8Array {
  if (!(init instanceof Headers)) {
    for (let i = 0; i < recent.length; i++) if (matches(recent[i]!, init, implicitType)) return recent[i]!.bytes;
  }
  const h = new Headers(init as HeadersInit | undefined);
  if (implicitType !== '' && !h.has('content-type')) h.set('content-type', implicitType);
  let lines = '';
  h.forEach((value, name) => {
    if (!skip.has(name)) lines += `${name}: ${value}\r\n`;
  });
  const bytes = Buffer.from(lines, 'latin1');
  const e = init instanceof Headers ? undefined : entryOf(init, implicitType, bytes);
  if (e !== undefined) {
    if (recent.length >= RECENT_MAX) recent.pop();
    recent.unshift(e);
  }
  return bytes;
}
