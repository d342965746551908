// Worker side of the channel stress test: drains on every doorbell and
// checks that values arrive in order, exactly once.
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { FdChannel } from '../../src/cluster/channel.ts';

const { buffer, doorbell, total } = workerData as { buffer: SharedArrayBuffer; doorbell: MessagePort; total: number };
const ch = new FdChannel(buffer);
let expect = 0;
let wakeups = 0;
let bad = -1;
doorbell.on('message', () => {
  wakeups++;
  ch.drain((v) => {
    if (v !== expect && bad < 0) bad = expect;
    expect++;
  });
  if (expect === total) {
    parentPort!.postMessage({ received: expect, wakeups, bad });
    doorbell.close();
  }
});
