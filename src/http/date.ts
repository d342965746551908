// The Date header (RFC 9110 §6.6.1), formatted once per second and copied
// into every response: asking the clock is the only per-batch cost.
let line: Uint8Array = new Uint8Array(0);
let validUntil = 0;

/** `Date: <IMF-fixdate>\r\n` for the current second. */
export function dateLine(): Uint8Array {
  const now = Date.now();
  if (now >= validUntil) {
    line = Buffer.from(`Date: ${new Date(now).toUTCString()}\r\n`, 'latin1');
    validUntil = now - (now % 1000) + 1000;
  }
  return line;
}
