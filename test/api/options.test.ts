// Option validation: every bad option is a TypeError/RangeError with Node's
// code, raised before any resource is taken (checked: the backend owns no fd
// and was never asked for a ring).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listen, type ListenOptions, type Connection, type Backend } from '../../src/index.ts';
import { hostCalls } from '../../bridge/backend.ts';

/** A backend that records every host call: a rejected listen must make none. */
function recordingBackend(): { backend: Backend; calls: string[] } {
  const calls: string[] = [];
  const host = new Proxy({}, {
    get: (_t, name) => (..._args: unknown[]) => { calls.push(String(name)); return -38; },
  }) as Backend['host'];
  const backend: Backend = {
    kind: 'sim',
    host,
    ...hostCalls(host),
    slabBuffer: () => { calls.push('slabBuffer'); return new ArrayBuffer(0); },
    watch: () => { calls.push('watch'); return () => {}; },
    quiesce: () => {},
    pinSlab: () => { calls.push('pinSlab'); return -1; },
    unpinSlab: () => { calls.push('unpinSlab'); },
    ownedFds: () => 0,
    releaseFd: () => undefined,
    claimFd: () => undefined,
  };
  return { backend, calls };
}

async function rejects(opts: unknown, ctor: ErrorConstructor, code: string, what?: RegExp): Promise<void> {
  const { backend, calls } = recordingBackend();
  const o = (opts !== null && typeof opts === 'object' && !Array.isArray(opts))
    ? { backend, ...(opts as object) } : opts;
  try {
    await listen(o as ListenOptions<Connection>);
  } catch (err) {
    assert.instance(err, ctor, `${JSON.stringify(opts)} -> ${ctor.name}`);
    assert.is((err as { code?: string }).code, code, `${JSON.stringify(opts)} -> ${code}`);
    if (what) assert.match((err as Error).message, what);
    assert.equal(calls, [], 'no resource taken');
    return;
  }
  assert.unreachable(`listen(${JSON.stringify(opts)}) should reject`);
}

test('non-object options', async () => {
  await rejects(42, TypeError, 'ERR_INVALID_ARG_TYPE', /"options" argument must be of type object/);
  await rejects(null, TypeError, 'ERR_INVALID_ARG_TYPE');
  await rejects([], TypeError, 'ERR_INVALID_ARG_TYPE');
});

test('port', async () => {
  await rejects({ port: '80' }, TypeError, 'ERR_INVALID_ARG_TYPE', /options\.port/);
  await rejects({ port: -1 }, RangeError, 'ERR_OUT_OF_RANGE', />= 0 && <= 65535/);
  await rejects({ port: 65536 }, RangeError, 'ERR_OUT_OF_RANGE');
  await rejects({ port: 1.5 }, RangeError, 'ERR_OUT_OF_RANGE', /integer/);
  await rejects({ port: NaN }, RangeError, 'ERR_OUT_OF_RANGE');
});

test('host and ipVersion', async () => {
  await rejects({ host: 127 }, TypeError, 'ERR_INVALID_ARG_TYPE');
  await rejects({ host: 'example.com' }, TypeError, 'ERR_INVALID_ARG_VALUE', /numeric/);
  await rejects({ ipVersion: 'v5' }, TypeError, 'ERR_INVALID_ARG_VALUE', /'v4', 'v6', 'dual'/);
  await rejects({ host: '::1', ipVersion: 'v4' }, TypeError, 'ERR_INVALID_ARG_VALUE');
  await rejects({ host: '127.0.0.1', ipVersion: 'v6' }, TypeError, 'ERR_INVALID_ARG_VALUE');
  await rejects({ backlog: 0 }, RangeError, 'ERR_OUT_OF_RANGE');
  await rejects({ reusePort: 1 }, TypeError, 'ERR_INVALID_ARG_TYPE');
});

test('callbacks, signal, backend, unknown keys', async () => {
  await rejects({ onConnection: 'x' }, TypeError, 'ERR_INVALID_ARG_TYPE');
  await rejects({ onError: 1 }, TypeError, 'ERR_INVALID_ARG_TYPE');
  await rejects({ signal: {} }, TypeError, 'ERR_INVALID_ARG_TYPE', /AbortSignal/);
  await rejects({ prot: 80 }, TypeError, 'ERR_INVALID_ARG_VALUE', /options\.prot/);
  await rejects({ reactor: { ringEntrys: 8 } }, TypeError, 'ERR_INVALID_ARG_VALUE', /ringEntrys/);
  await rejects({ reactor: 5 }, TypeError, 'ERR_INVALID_ARG_TYPE');
  try {
    await listen({ backend: 'io_uring' as unknown as 'native' });
    assert.unreachable('bad backend');
  } catch (err) {
    assert.is((err as { code?: string }).code, 'ERR_INVALID_ARG_TYPE');
  }
});

test('reactor options', async () => {
  await rejects({ reactor: { bufferRingEntries: 1000 } }, RangeError, 'ERR_OUT_OF_RANGE', /power of two/);
  await rejects({ reactor: { bufferRingEntries: 65536 } }, RangeError, 'ERR_OUT_OF_RANGE');
  await rejects({ reactor: { bufferRingEntries: 0 } }, RangeError, 'ERR_OUT_OF_RANGE');
  await rejects({ reactor: { ringEntries: 0 } }, RangeError, 'ERR_OUT_OF_RANGE');
  await rejects({ reactor: { ringEntries: 1 << 16 } }, RangeError, 'ERR_OUT_OF_RANGE');
  await rejects({ reactor: { recvBufferSize: 10 } }, RangeError, 'ERR_OUT_OF_RANGE');
  await rejects({ reactor: { recvBufferSize: 1 << 20, bufferRingEntries: 4096 } }, RangeError, 'ERR_OUT_OF_RANGE', /2 GiB/);
  await rejects({ reactor: { cqeBatch: 0 } }, RangeError, 'ERR_OUT_OF_RANGE');
  await rejects({ reactor: { maxConnections: -5 } }, RangeError, 'ERR_OUT_OF_RANGE');
  await rejects({ reactor: { incremental: 'yes' } }, TypeError, 'ERR_INVALID_ARG_TYPE');
  await rejects({ reactor: { sqpoll: 1 } }, TypeError, 'ERR_INVALID_ARG_TYPE');
  await rejects({ reactor: { coopTaskrun: 'on' } }, TypeError, 'ERR_INVALID_ARG_TYPE');
  await rejects({ reactor: { deferTaskrun: true, singleIssuer: false } }, TypeError, 'ERR_INVALID_ARG_VALUE', /singleIssuer/);
  await rejects({ reactor: { deferTaskrun: true, sqpoll: true } }, TypeError, 'ERR_INVALID_ARG_VALUE', /sqpoll/);
  await rejects({ reactor: { sqThreadCpu: 1 } }, TypeError, 'ERR_INVALID_ARG_VALUE', /sqpoll/);
  await rejects({ reactor: { sqThreadCpu: -2, sqpoll: true } }, RangeError, 'ERR_OUT_OF_RANGE');
  await rejects({ reactor: { sqThreadIdleMs: -1 } }, RangeError, 'ERR_OUT_OF_RANGE');
  await rejects({ reactor: { writeSlabSize: 1024 } }, RangeError, 'ERR_OUT_OF_RANGE');
  await rejects({ reactor: { highWaterMark: 0 } }, RangeError, 'ERR_OUT_OF_RANGE');
});

test('an aborted signal rejects with AbortError before any resource', async () => {
  const { backend, calls } = recordingBackend();
  try {
    await listen({ backend, signal: AbortSignal.abort() });
    assert.unreachable('aborted');
  } catch (err) {
    assert.is((err as Error).name, 'AbortError');
    assert.is((err as { code?: string }).code, 'ABORT_ERR');
  }
  assert.equal(calls, []);
});

test('a failing backend surfaces the errno code and releases what it took', async () => {
  // Every host call fails with ENOSYS: create() fails inside the core.
  const { backend } = recordingBackend();
  try {
    await listen({ backend });
    assert.unreachable('listen on a dead backend');
  } catch (err) {
    assert.type((err as { code?: string }).code, 'string');
    assert.ok((err as Error) instanceof Error);
  }
});

test.run();
