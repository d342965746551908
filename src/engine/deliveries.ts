// receive() deliveries of one tick, queued while the tick's events are
// dispatched and made once the batch is done: a handler then runs outside the
// loop over the batch (closing the server or throwing cannot cut it short),
// and in arrival order. Flat arrays reused from tick to tick: no object per
// delivery.
import type { ConnectionReader } from '../connection/reader.ts';

export class Deliveries {
  readonly #readers: (ConnectionReader | undefined)[] = [];
  /** bid, offset, length per delivery. */
  readonly #args: number[] = [];
  #n = 0;

  get length(): number { return this.#n; }

  push(r: ConnectionReader, bid: number, offset: number, length: number): void {
    const i = this.#n++;
    this.#readers[i] = r;
    const a = this.#args;
    a[3 * i] = bid;
    a[3 * i + 1] = offset;
    a[3 * i + 2] = length;
  }

  /** Makes every queued delivery, including those queued while running. */
  run(): void {
    const rs = this.#readers;
    const a = this.#args;
    for (let i = 0; i < this.#n; i++) {
      const r = rs[i]!;
      rs[i] = undefined; // the reader may be collected once its connection is gone
      r.deliver(a[3 * i]!, a[3 * i + 1]!, a[3 * i + 2]!);
    }
    this.#n = 0;
  }
}
