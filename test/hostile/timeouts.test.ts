// Timeouts run on the backend's clock: here the simulator's virtual clock, so
// every bound below is exact and no test waits in real time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSimBackend } from '../../bridge/sim/index.ts';
import { listen, type Connection } from '../../src/index.ts';

const ETIMEDOUT = 'ETIMEDOUT';

test('idleTimeoutMs closes a silent connection between 1x and 1.25x the timeout, and spares a chatty one', async () => {
  const sim = createSimBackend({ seed: 7 });
  const conns: Connection[] = [];
  const server = await listen({
    backend: sim, port: 0, idleTimeoutMs: 1000,
    async onConnection(conn) { conns.push(conn); for await (const b of conn) conn.write(b); },
  });
  const port = server.address().port;
  const silent = sim.client();
  silent.connect(port);
  const chatty = sim.client();
  chatty.connect(port);
  let chats = 0;
  const chat = (): void => {
    if (chats++ < 12) { chatty.write(new Uint8Array([1, 2, 3])); sim.world.appAfter(300e6, chat); }
  };
  chatty.onConnect = chat;
  await sim.runUntil(() => conns.length === 2);
  const t0 = sim.world.now / 1e6;
  const quiet = conns[0]!;
  await sim.runUntil(() => quiet.state === 'closed', { maxVirtualMs: 5000 });
  const closedAfter = sim.world.now / 1e6 - t0;
  assert.is(quiet.error?.code, ETIMEDOUT);
  assert.ok(closedAfter >= 1000 && closedAfter <= 1300, `closed after ${closedAfter} virtual ms`);
  await sim.runUntil(() => chats > 12, { maxVirtualMs: 10_000 });
  assert.is(conns[1]!.state, 'open', 'a connection that moves bytes every 300 ms stays open');
  assert.is(server.stats().timeouts.idle, 1);
  await sim.runUntil(server.close({ deadlineMs: 100 }));
});

test('endTimeoutMs aborts an ended connection whose peer never reads; a reader gets every byte', async () => {
  const sim = createSimBackend({ seed: 11 });
  const conns: Connection[] = [];
  const payload = new Uint8Array(1 << 20).fill(7);
  const server = await listen({
    backend: sim, port: 0, endTimeoutMs: 2000,
    onConnection(conn) { conns.push(conn); conn.end(payload); },
  });
  const port = server.address().port;
  const deaf = sim.client({ autoRead: false, rcvCap: 4096 });
  deaf.connect(port);
  await sim.runUntil(() => conns.length === 1);
  const reader = sim.client();
  let got = 0;
  reader.onData = (b) => { got += b.length; };
  reader.connect(port);
  await sim.runUntil(() => conns.length === 2);
  const t0 = sim.world.now / 1e6;
  await sim.runUntil(() => conns[0]!.state === 'closed', { maxVirtualMs: 10_000 });
  const after = sim.world.now / 1e6 - t0;
  assert.is(conns[0]!.error?.code, ETIMEDOUT);
  assert.ok(after >= 2000 && after <= 3000, `aborted after ${after} virtual ms`);
  await sim.runUntil(() => got === payload.length, { maxVirtualMs: 10_000 });
  assert.is(server.stats().timeouts.end, 1);
  await sim.runUntil(server.close({ deadlineMs: 100 }));
});

test('no timeout by default: a silent connection stays open (and the world goes idle)', async () => {
  const sim = createSimBackend({ seed: 3 });
  const conns: Connection[] = [];
  const server = await listen({ backend: sim, port: 0, onConnection(conn) { conns.push(conn); } });
  sim.client().connect(server.address().port);
  await sim.runUntil(() => conns.length === 1);
  sim.run();
  sim.world.appAfter(60_000e6, () => {});
  sim.run();
  assert.is(conns[0]!.state, 'open');
  assert.is(server.stats().timeouts.idle, 0);
  await sim.runUntil(server.close({ deadlineMs: 100 }));
});

test.run();
