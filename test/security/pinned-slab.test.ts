// Finding 3 (issue 13), from JS: slab memory lives as long as the kernel may
// write it. Only mmap slabs go into a buffer ring (the helper cannot hold a JS
// ArrayBuffer's backing store against a transfer), and pinSlab refuses
// memory that is already a live slab's (slabBuffer(A)), so no second handle
// can outlive the memory a ring still points at.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createNativeBackend } from '../../bridge/native.ts';
import { ZerglingError } from '../../bridge/backend.ts';
import { E, addon, fdCount, listen4 } from '../native/helpers.ts';

const a = addon();
const fds0 = fdCount();

test('pinSlab(slabBuffer(A)) is -EEXIST; A then destroys cleanly', () => {
  const A = a.slabCreate(8192);
  const view = a.slabBuffer(A) as ArrayBuffer;
  assert.is(a.pinSlab(view), -E.EEXIST);
  const b = createNativeBackend();
  const B = b.host.slabCreate(4096);
  let err: unknown;
  try { b.pinSlab(b.slabBuffer(B)); } catch (e) { err = e; }
  assert.instance(err, ZerglingError);
  assert.is((err as ZerglingError).code, 'EEXIST');
  assert.is(b.host.slabDestroy(B), 0);
  assert.is(a.slabDestroy(A), 0);
  assert.is(view.byteLength, 0, 'the view was detached with its slab');
});

test('a pinned buffer never goes into a buffer ring (the kernel would write into it)', () => {
  const ring = a.createRing(8);
  const br = a.setupBufRing(ring, 4, 1, 0);
  const buf = new ArrayBuffer(8192);
  const pin = a.pinSlab(buf);
  assert.ok(pin > 0);
  assert.is(a.bufRingAdd(br, pin, 0, 4096, 0, 3, 0), -E.EINVAL);
  // Transferred away (and collectable): sends are refused too, and unpin works.
  structuredClone(buf, { transfer: [buf] });
  const [fd] = listen4(a);
  const sqe = a.getSqe(ring);
  assert.is(a.prepSend(sqe, fd, pin, 0, 16, 0), -E.EFAULT);
  assert.is(a.bufRingAdd(br, pin, 0, 16, 0, 3, 0), -E.EFAULT);
  assert.is(a.unpinSlab(pin), 0);
  // An mmap slab still goes in.
  const s = a.slabCreate(4096);
  assert.is(a.bufRingAdd(br, s, 0, 4096, 0, 3, 0), 0);
  assert.is(a.slabDestroy(s), -E.EBUSY, 'held by the buffer ring');
  assert.is(a.destroyRing(ring), 0);
  assert.is(a.slabDestroy(s), 0);
  assert.is(a.close(fd), 0);
});

test('nothing leaked by this file', () => {
  assert.is(a.ownedFds(), 0);
  assert.is(fdCount(), fds0);
});

test.run();
