// The same scenarios on the simulator and on real io_uring: what the clients
// observe (bytes, in order; EOF; errors) must agree, and each must meet the
// scenario's expectation. The native half is a test of its own, reported as
// skipped (not passed) only when the native helper cannot be loaded.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nativeAvailable } from '../../bridge/native.ts';
import { EchoServer, baseConfig, nativeEnv, payload, sameBytes, simEnv } from './harness.ts';
import type { ConfClient, Env, ServerOptions } from './harness.ts';
import type { ReactorConfig } from '../../bridge/backend.ts';

interface Observation {
  clients: { bytes: number; echoOk: boolean; eof: boolean; error: string | undefined }[];
  /** Server-side: closed events with and without an error. */
  closedClean: number;
  closedError: number;
  leakedFds: number;
  extra: Record<string, unknown>;
}

type Scenario = (env: Env) => Promise<Observation>;

async function withServer(env: Env, cfg: ReactorConfig, opts: ServerOptions, body: (srv: EchoServer) => Promise<Omit<Observation, 'closedClean' | 'closedError' | 'leakedFds'>>): Promise<Observation> {
  const srv = new EchoServer(env, cfg, opts);
  const o = await body(srv);
  await env.settle(() => srv.closed.size === srv.opened.length, 'every connection closed');
  await env.drain();
  const closed = [...srv.closed.values()];
  const leakedFds = await srv.shutdown();
  if (srv.error !== undefined) throw new Error(`${env.kind}: reactor trapped: ${srv.error}`);
  return { ...o, closedClean: closed.filter((e) => e === 0).length, closedError: closed.filter((e) => e !== 0).length, leakedFds };
}

function observe(c: ConfClient, sent: Uint8Array): Observation['clients'][number] {
  return { bytes: c.bytes, echoOk: sameBytes(c.received(), sent.subarray(0, c.bytes)), eof: c.eof, error: c.error };
}

const scenarios: Record<string, { run: Scenario; expect: (o: Observation) => void }> = {
  echo: {
    run: (env) =>
      withServer(env, baseConfig(), {}, async (srv) => {
        const data = Array.from({ length: 8 }, (_, i) => payload(1000 + i * 2500, i + 1));
        const cs = data.map((d) => {
          const c = env.client();
          c.connect(srv.port);
          c.write(d);
          c.end();
          return c;
        });
        await env.settle(() => cs.every((c) => c.eof || c.error !== undefined), 'every client EOF');
        return { clients: cs.map((c, i) => observe(c, data[i]!)), extra: {} };
      }),
    expect: (o) => {
      for (const c of o.clients) assert.equal([c.echoOk, c.eof, c.error], [true, true, undefined]);
      assert.equal(o.clients.map((c) => c.bytes), Array.from({ length: 8 }, (_, i) => 1000 + i * 2500));
    },
  },
  'large transfer (4 MiB)': {
    run: (env) =>
      withServer(env, baseConfig(), {}, async (srv) => {
        const d = payload(4 << 20, 99);
        const c = env.client();
        c.connect(srv.port);
        for (let k = 0; k < d.length; k += 65536) c.write(d.subarray(k, k + 65536));
        c.end();
        await env.settle(() => c.eof || c.error !== undefined, 'EOF after 4 MiB');
        return { clients: [observe(c, d)], extra: {} };
      }),
    expect: (o) => assert.equal(o.clients[0], { bytes: 4 << 20, echoOk: true, eof: true, error: undefined }),
  },
  'half-close: data after the client FIN still comes back': {
    run: (env) =>
      withServer(env, baseConfig(), {}, async (srv) => {
        const d = payload(3000, 7);
        const c = env.client();
        c.connect(srv.port);
        c.write(d);
        c.end();
        await env.settle(() => c.eof || c.error !== undefined, 'EOF');
        return { clients: [observe(c, d)], extra: {} };
      }),
    expect: (o) => {
      assert.equal(o.clients[0], { bytes: 3000, echoOk: true, eof: true, error: undefined });
      assert.is(o.closedClean, 1);
    },
  },
  'reset: the server closes that connection with an error, others unharmed': {
    run: (env) =>
      withServer(env, baseConfig(), {}, async (srv) => {
        const d = payload(20000, 3);
        const r = env.client();
        r.connect(srv.port);
        r.write(d);
        await env.settle(() => r.bytes > 0, 'first echoed bytes');
        r.reset();
        const ok = env.client();
        const d2 = payload(5000, 4);
        ok.connect(srv.port);
        ok.write(d2);
        ok.end();
        await env.settle(() => ok.eof || ok.error !== undefined, 'EOF of the other client');
        await env.settle(() => srv.closed.size === 2, 'both closed');
        return { clients: [{ ...observe(r, d), bytes: r.bytes > 0 ? 1 : 0 }, observe(ok, d2)], extra: {} };
      }),
    expect: (o) => {
      assert.is(o.clients[0]!.echoOk, true);
      assert.equal(o.clients[1], { bytes: 5000, echoOk: true, eof: true, error: undefined });
      assert.is(o.closedError, 1, 'the reset connection closed with an error');
      assert.is(o.closedClean, 1);
    },
  },
  'ENOBUFS recovery: 2 tiny buffers, 256 KiB, nothing lost': {
    run: (env) =>
      withServer(env, baseConfig({ bufferRingEntries: 2, recvBufferSize: 64 }), { releaseAfterSent: true }, async (srv) => {
        const d = payload(256 << 10, 5);
        const c = env.client();
        c.connect(srv.port);
        c.write(d);
        c.end();
        await env.settle(() => c.eof || c.error !== undefined, 'EOF');
        return { clients: [observe(c, d)], extra: { enobufsSeen: srv.stats().enobufs > 0n } };
      }),
    expect: (o) => {
      assert.equal(o.clients[0], { bytes: 256 << 10, echoOk: true, eof: true, error: undefined });
      assert.is(o.extra['enobufsSeen'], true, 'the ring ran dry at least once');
    },
  },
  'cancel: the server aborts a connection whose recv is armed': {
    run: (env) =>
      withServer(env, baseConfig(), { onData: () => 'abort' }, async (srv) => {
        const d = payload(10, 6);
        const c = env.client();
        c.connect(srv.port);
        c.write(d);
        await env.settle(() => c.eof || c.error !== undefined, 'the client sees the close');
        return { clients: [observe(c, d)], extra: {} };
      }),
    expect: (o) => {
      assert.equal(o.clients[0], { bytes: 0, echoOk: true, eof: true, error: undefined });
      assert.is(o.closedClean + o.closedError, 1);
    },
  },
};

const native = nativeAvailable();
if (!native) console.log('  conformance: native helper unavailable (nativeAvailable() is false): the native halves are reported as skipped');

// The native half compares against the simulator's observation of the same
// scenario; it is its own test so that a missing helper shows as a skip in
// test/run.sh's count rather than as a pass.
const simObserved = new Map<string, Observation>();
for (const [name, sc] of Object.entries(scenarios)) {
  test(`conformance: ${name} (sim)`, async () => {
    const s = await sc.run(simEnv(17));
    sc.expect(s);
    assert.is(s.leakedFds, 0, 'sim: fds left after destroy');
    simObserved.set(name, s);
  });
  (native ? test : test.skip)(`conformance: ${name} (native = sim)`, async () => {
    const s = simObserved.get(name) ?? await sc.run(simEnv(17));
    const n = await sc.run(await nativeEnv());
    if (process.env.CONF_VERBOSE) console.log(name, JSON.stringify({ sim: s, native: n }, (_k, v) => (typeof v === "bigint" ? String(v) : v)));
    sc.expect(n);
    assert.is(n.leakedFds, 0, 'native: fds left after destroy');
    assert.equal({ clients: n.clients, closedClean: n.closedClean, closedError: n.closedError }, { clients: s.clients, closedClean: s.closedClean, closedError: s.closedError }, 'sim and real io_uring disagree');
  });
}

test.run();
