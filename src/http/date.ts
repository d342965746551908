// The Date header (RFC 9110 §6.6.1), formatted once per second and copied
// into every response. The connection calls refreshDate() when a read batch
// starts, not per response: responses staged within that batch use the line
// as it was then. The clock is not read there either: Date.now() returns a
// heap number in optimized code, 16 bytes per received chunk (most of what
// the hello server still allocated per request, bench/heap-sample.mjs). A
// timer marks the line stale at the next second instead, as node:http does;
// it is armed only by a refresh, so an idle server has none.
import { statusLine } from './status.ts';

let line: Uint8Array = new Uint8Array(0);
/** `HTTP/1.1 200 OK\r\n` + the Date line: the head's first two lines of most responses, in one copy. */
let okLines: Uint8Array = line;
let stale = true;

/** The second has changed (the timer), or a test moved the clock: the next refresh re-formats. */
export function expireDate(): void {
  stale = true;
}

/** Re-formats the lines when the second has changed. */
export function refreshDate(): void {
  if (!stale) return;
  const now = Date.now();
  line = Buffer.from(`Date: ${new Date(now).toUTCString()}\r\n`, 'latin1');
  okLines = Buffer.concat([statusLine(200), line]);
  stale = false;
  const t: unknown = setTimeout(expireDate, 1000 - (now % 1000));
  (t as { unref?: () => void }).unref?.(); // never what keeps a process alive
}

/** `Date: <IMF-fixdate>\r\n` for the current second. */
export function dateLine(): Uint8Array {
  refreshDate();
  return line;
}

/** The Date line as of the last refreshDate() (for responses inside a read batch). */
export function batchDateLine(): Uint8Array {
  return line;
}

/** The status line of 200 and the Date line as of the last refreshDate(). */
export function batchOkLines(): Uint8Array {
  return okLines;
}
