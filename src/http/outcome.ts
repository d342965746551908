// What an incremental HTTP decoder ends with: the head parser (HeadFacts,
// HeadParser) and the chunked body decoder share it, so the connection reads
// the same three fields after either, and a refusal is recorded one way. A
// base class rather than a field holding an object: the decoders test
// `done` and `error` per call, and an own field costs no extra load.
export class Outcome {
  /** Everything this decoder reads has been read. */
  done = false;
  /** HTTP status to refuse the request with (400, 413, 414, 417, 431, 501, 505), or 0. */
  error = 0;
  /** Which rule refused it (for logs and tests). */
  reason = '';

  /** Forgets the previous request's outcome. */
  protected resetOutcome(): void {
    this.done = false;
    this.error = 0;
    this.reason = '';
  }

  /** Refuses the request; a subclass also stops its state machine. Returns -1, what the decode call returns. */
  protected fail(status: number, reason: string): number {
    this.error = status;
    this.reason = reason;
    return -1;
  }
}
