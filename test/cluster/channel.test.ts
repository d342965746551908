// FdChannel: the SPSC ring of fds between the acceptor and a reactor thread.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MessageChannel, Worker } from 'node:worker_threads';
import { FdChannel } from '../../src/cluster/channel.ts';

test('FIFO; the doorbell is asked for only when the consumer went idle; full is -1', () => {
  const p = new FdChannel(8);
  const c = new FdChannel(p.buffer);
  assert.is(p.capacity, 8);
  assert.is(p.push(10), 1, 'first push into an idle consumer rings');
  assert.is(p.push(11), 0, 'the consumer has not drained yet: no second doorbell');
  assert.is(p.push(12), 0);
  const got: number[] = [];
  assert.is(c.drain((fd) => got.push(fd)), 3);
  assert.equal(got, [10, 11, 12]);
  assert.is(c.drain((fd) => got.push(fd)), 0, 'nothing twice');
  for (let i = 0; i < 8; i++) assert.is(p.push(100 + i), i === 0 ? 1 : 0);
  assert.is(p.size, 8);
  assert.is(p.push(999), -1, 'full');
  got.length = 0;
  c.drain((fd) => got.push(fd));
  assert.equal(got, [100, 101, 102, 103, 104, 105, 106, 107], 'order kept across the wrap');
  assert.is(p.push(7), 1);
});

test('a consumer that throws mid-drain does not see the same fd twice', () => {
  const p = new FdChannel(4);
  const c = new FdChannel(p.buffer);
  p.push(1); p.push(2); p.push(3);
  const got: number[] = [];
  assert.throws(() => c.drain((fd) => { got.push(fd); if (fd === 2) throw new Error('x'); }));
  c.drain((fd) => got.push(fd));
  assert.equal(got, [1, 2, 3]);
});

test('capacity must be a power of two', () => {
  assert.throws(() => new FdChannel(6), RangeError);
  assert.throws(() => new FdChannel(0), RangeError);
});

test('cross-thread: 200000 values in bursts arrive in order, once, with fewer doorbells than values', async () => {
  const total = 200_000;
  const ch = new FdChannel(1024);
  const { port1, port2 } = new MessageChannel();
  // Under tsx the worker needs tsx's hooks registered (Node 20 does not pass
  // --import loaders to workers); see src/cluster/thread.ts.
  const api = import.meta.resolve('tsx/esm/api');
  const url = new URL('./channel-consumer.ts', import.meta.url).href;
  const w = new Worker(`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url)}); })`, {
    eval: true, workerData: { buffer: ch.buffer, doorbell: port2, total }, transferList: [port2],
  });
  const done = new Promise<{ received: number; wakeups: number; bad: number }>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  let sent = 0, bells = 0, full = 0;
  let seed = 12345;
  while (sent < total) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const burst = Math.min(total - sent, 1 + (seed % 700));
    for (let i = 0; i < burst; i++) {
      let r = ch.push(sent);
      while (r < 0) { // full: let the consumer catch up
        full++;
        await new Promise((res) => setImmediate(res));
        r = ch.push(sent);
      }
      if (r === 1) { bells++; port1.postMessage(null); }
      sent++;
    }
    if (seed % 3 === 0) await new Promise((res) => setImmediate(res));
  }
  const r = await done;
  await w.terminate();
  port1.close();
  assert.is(r.bad, -1, `first out-of-order value: ${r.bad}`);
  assert.is(r.received, total);
  assert.ok(r.wakeups <= bells, `wake-ups ${r.wakeups} <= doorbells ${bells}`);
  // Timing decides the exact batching; a doorbell per value would mean none.
  assert.ok(bells <= total / 2, `doorbells ${bells} for ${total} values (ring found full ${full} times)`);
});

test.run();
