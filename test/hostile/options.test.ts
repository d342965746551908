// The hostile-client limits are options with defaults and Node-style
// validation (TypeError/RangeError with a code, before any resource is taken).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveOptions } from '../../src/options.ts';

const code = (f: () => unknown): string | undefined => {
  try { f(); } catch (e) { return (e as { code?: string }).code; }
  return undefined;
};

test('defaults: budget an eighth of the ring, reserve a quarter, idle off, end 30 s', () => {
  const o = resolveOptions({});
  assert.is(o.config.recvBudget, 64);
  assert.is(o.config.recvReserve, 128);
  assert.is(o.config.idleTimeoutMs, 0);
  assert.is(o.config.endTimeoutMs, 30_000);
  assert.is(o.config.maxFd, 65536 * 2 + 1024);
  assert.is(o.sweepMs, 1000);
  const small = resolveOptions({ reactor: { bufferRingEntries: 4 } });
  assert.is(small.config.recvBudget, 1, 'at least one buffer');
  assert.is(small.config.recvReserve, 1);
  assert.is(resolveOptions({ idleTimeoutMs: 200 }).sweepMs, 50, 'a quarter of the shortest timeout');
  assert.is(resolveOptions({ endTimeoutMs: 0 }).sweepMs, 0, 'no timeout, no sweep');
});

test('bad values are refused with a code', () => {
  assert.is(code(() => resolveOptions({ reactor: { recvBudget: 0 } })), 'ERR_OUT_OF_RANGE');
  assert.is(code(() => resolveOptions({ reactor: { recvBudget: 513 } })), 'ERR_OUT_OF_RANGE');
  assert.is(code(() => resolveOptions({ reactor: { recvBudget: 1.5 } })), 'ERR_OUT_OF_RANGE');
  assert.is(code(() => resolveOptions({ reactor: { recvBudget: '8' } })), 'ERR_INVALID_ARG_TYPE');
  assert.is(code(() => resolveOptions({ reactor: { recvReserve: 512 } })), 'ERR_OUT_OF_RANGE');
  assert.is(code(() => resolveOptions({ reactor: { recvReserve: -1 } })), 'ERR_OUT_OF_RANGE');
  assert.is(code(() => resolveOptions({ reactor: { maxFd: 10 } })), 'ERR_OUT_OF_RANGE');
  assert.is(code(() => resolveOptions({ reactor: { sendRanges: 10 } })), 'ERR_OUT_OF_RANGE');
  assert.is(code(() => resolveOptions({ idleTimeoutMs: -1 })), 'ERR_OUT_OF_RANGE');
  assert.is(code(() => resolveOptions({ endTimeoutMs: 'soon' })), 'ERR_INVALID_ARG_TYPE');
  assert.is(code(() => resolveOptions({ reactor: { recvBudget: 8, bufferRingEntries: 4 } })), 'ERR_OUT_OF_RANGE');
});

test.run();
