// Reuseport distribution: every reactor thread listens on the same port with
// SO_REUSEPORT; the kernel picks a listener by a hash of the 4-tuple, so the
// spread is binomial, not round-robin: with 4 reactors the ±20% check runs
// over 2000 connections (500 concurrent, 4 waves), where a miss is > 5 sigma.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listen } from '../../src/cluster/index.ts';
import { assertClusterClean, assertSpread, closeTracked, echoClients, procFds, statsWhen, tracked } from './helpers.ts';

// A test that fails half-way must not leave its cluster's threads and fds to the next.
test.after.each(closeTracked);

const HANDLER = new URL('./handlers/echo.ts', import.meta.url);
const CLIENTS = 500;
const LEN = 4096;

for (const [reactors, waves] of [[1, 1], [2, 1], [4, 4]] as const) {
  test(`reuseport, ${reactors} reactor(s): ${CLIENTS} concurrent echo clients x${waves}, spread, clean close`, async () => {
    const base = procFds();
    const server = tracked(await listen({ port: 0, reactors, handler: HANDLER, distribution: 'reuseport' }));
    assert.is(server.distribution, 'reuseport');
    const { port } = server.address();
    const live = await server.stats();
    assert.is(live.acceptor, null);
    assert.is(live.fds, reactors, 'one listener per reactor');
    assert.ok(live.perReactor.every((r) => r.listening), 'every reactor listens');

    for (let w = 0; w < waves; w++) {
      assert.is(await echoClients(port, CLIENTS, LEN, reactors * 10000 + w * CLIENTS), CLIENTS * LEN, `wave ${w}`);
    }
    const total = CLIENTS * waves;
    const st1 = await statsWhen(server, (x) => x.bytesOut === total * LEN && x.bytesIn === total * LEN);
    assert.is(st1.bytesIn, total * LEN);
    assert.is(st1.bytesOut, total * LEN);

    await server.close();
    const st = await assertClusterClean(server, base);
    assertSpread(st, total);
  });
}

test('reuseport: a fixed port is shared by every reactor; a second cluster on it is refused unless it asks for reuseport', async () => {
  const base = procFds();
  const a = tracked(await listen({ port: 0, reactors: 2, handler: HANDLER, distribution: 'acceptor' }));
  const { port } = a.address();
  // The acceptor's listener has no SO_REUSEPORT: a reuseport group cannot join it.
  const err = await listen({ port, reactors: 2, handler: HANDLER, distribution: 'reuseport' }).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof Error);
  assert.is((err as { code?: string }).code, 'EADDRINUSE');
  await a.close();
  await assertClusterClean(a, base);
});

test.run();
