// Acceptor distribution: one accept ring on the main thread hands fds to N
// reactor threads round-robin. 500 concurrent echo clients, every byte
// checked; the counts per reactor are even; close() leaves nothing behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { listen } from '../../src/cluster/index.ts';
import { ownedFds } from '../../bridge/native.ts';
import { assertClusterClean, assertSpread, closeTracked, echoClients, procFds, statsWhen, tracked } from './helpers.ts';

// A test that fails half-way must not leave its cluster's threads and fds to the next.
test.after.each(closeTracked);

const HANDLER = new URL('./handlers/echo.ts', import.meta.url);
const CLIENTS = 500;
const LEN = 4096;

for (const reactors of [1, 2, 4]) {
  test(`acceptor, ${reactors} reactor(s): ${CLIENTS} concurrent echo clients, even spread, clean close`, async () => {
    const base = procFds();
    const server = tracked(await listen({ port: 0, reactors, handler: HANDLER, distribution: 'acceptor' }));
    assert.is(server.reactors, reactors);
    assert.is(server.distribution, 'acceptor');
    assert.ok(server.listening);
    const { port } = server.address();
    assert.ok(port > 0);

    const bytes = await echoClients(port, CLIENTS, LEN, reactors * 1000);
    assert.is(bytes, CLIENTS * LEN);

    // Counters lag the clients by a turn (statsWhen): wait for the sends to be counted.
    const live = await statsWhen(server, (x) => x.bytesOut === CLIENTS * LEN && x.bytesIn === CLIENTS * LEN);
    assert.is(live.acceptor!.accepted, CLIENTS);
    assert.is(live.acceptor!.rejected, 0);
    // Accepts arrive in batches: one doorbell per reactor going idle to busy, not per connection.
    assert.ok(live.acceptor!.doorbells >= 1 && live.acceptor!.doorbells <= CLIENTS / 4, `doorbells: ${live.acceptor!.doorbells}`);
    assert.is(live.bytesIn, CLIENTS * LEN, 'bytes in, summed over reactors');
    assert.is(live.bytesOut, CLIENTS * LEN, 'bytes out, summed over reactors');
    assert.equal(live.perReactor.map((r) => r.handedOff), live.perReactor.map((r) => r.adopted), 'every fd handed off was adopted');
    assert.ok(live.fds >= 1, 'the listener is owned while listening');

    await server.close();
    assert.is(server.listening, false);
    const st = await assertClusterClean(server, base);
    assertSpread(st, CLIENTS);
    // Round-robin over live reactors: counts differ by at most one.
    const counts = st.perReactor.map((r) => r.accepted);
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `round-robin: ${counts.join(', ')}`);
    assert.is(ownedFds(), 0);
    await server.close(); // idempotent
  });
}

test('pinThreads: each reactor thread runs on its own allowed CPU', async () => {
  const base = procFds();
  const allowed = /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!.trim();
  const server = tracked(await listen({ port: 0, reactors: 2, handler: HANDLER, pinThreads: true }));
  const st = await server.stats();
  const cpus = st.perReactor.map((r) => r.cpu);
  assert.ok(cpus.every((c) => typeof c === 'number'), `every reactor pinned (${JSON.stringify(cpus)}; allowed ${allowed})`);
  // The threads of this process pinned to exactly those CPUs.
  const pinned = readdirSync('/proc/self/task').map((tid) => {
    try {
      return /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync(`/proc/self/task/${tid}/status`, 'utf8'))![1]!.trim();
    } catch { return ''; }
  });
  for (const c of cpus) assert.ok(pinned.includes(String(c)), `a thread pinned to CPU ${c} (threads: ${pinned.join(' | ')})`);
  assert.is(await echoClients(server.address().port, 20, 512), 20 * 512);
  await server.close();
  await assertClusterClean(server, base);
});

test.run();
