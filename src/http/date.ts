// The Date header (RFC 9110 §6.6.1), formatted once per second and copied
// into every response. The clock is read once per received chunk (the
// connection calls refreshDate() when a read batch starts), not per response:
// responses staged within that batch use the line as it was then.
import { statusLine } from './status.ts';

let line: Uint8Array = new Uint8Array(0);
/** `HTTP/1.1 200 OK\r\n` + the Date line: the head's first two lines of most responses, in one copy. */
let okLines: Uint8Array = line;
let validUntil = 0;

/** Reads the clock; re-formats the lines when the second has changed. */
export function refreshDate(): void {
  const now = Date.now();
  if (now >= validUntil) {
    line = Buffer.from(`Date: ${new Date(now).toUTCString()}\r\n`, 'latin1');
    okLines = Buffer.concat([statusLine(200), line]);
    validUntil = now - (now % 1000) + 1000;
  }
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
