// Bad input at the host boundary (docs/SECURITY.md): wrong handles of every
// kind, SQE handles after submit or destroy, ranges outside a slab, buffer ids
// and masks past a buffer ring, closed fds and fds the guest never owned, bad
// flags and arguments. Each case gives one errno (or a list: one per handle or
// call in it); host-contract.test.ts runs every case against every backend —
// the native helper from JS, the same helper called from Wasm (the probe
// guest: the canonical-ABI path the core uses), the simulator and the
// scripted host — and the results must be the same everywhere.
//
// Not run everywhere (`skip`, with the reason the table prints):
//  - wasm: timespecs no `timeout-ns` can carry (negative, tv_nsec >= 1e9), the
//    pure CQE helpers (they run inside the probe on CQEs it reaps), wrong JS
//    types (the Wasm signature fixes them), process fds (same as native).
//  - sim, scripted: the process's own fds (/proc/self/fd: the simulator's fds
//    are virtual, so those numbers may be its own sockets), wrong JS types (a
//    TypeScript host gets its types from the checker; only the N-API helper
//    sees untyped values at runtime), the slab memory detaching on destroy
//    (external ArrayBuffers are the helper's), CPU affinity (no CPUs).
//  - known differences (`differs`, marked `!` in the table, the suite pins the
//    other value): the simulator answers setsockopt(SO_LINGER) with ENOPROTOOPT
//    where Linux says EINVAL, and binds port 70000 where the helper refuses it.
//  - scripted: it is a CQE script for core tests, not a kernel: it checks
//    handles, ranges and the socket/fcntl rules of host-contract's own cases,
//    but not buffer-ring contents, submit-time checks, SQE lifetimes after
//    destroy-ring, kernel socket errors or waits.
import type { Backend, Host } from '../../bridge/backend.ts';
import { loadNativeAddon } from '../../bridge/native.ts';
import {
  FD_CALLS, LOOPBACK4, RING_CALLS, SQE_CALLS, deadRing, fdCalls, listener, ringCalls, sqeCalls, storm,
} from './bad-input-calls.ts';
import {
  AF_INET, EADDRINUSE, EAFNOSUPPORT, EBADF, EBUSY, EEXIST, EFAULT, EINVAL, ENOPROTOOPT, ENOTCONN, F_GETFL, IORING_ASYNC_CANCEL_ALL,
  IORING_ENTER_GETEVENTS, IOU_PBUF_RING_INC, O_NONBLOCK, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET,
} from '../../bridge/consts.ts';

export type BackendName = 'native' | 'wasm' | 'sim' | 'scripted';
export type Result = number | number[];

/** What each case gets: a live 64-entry ring, a guest socket, a 4 KiB slab and an unsubmitted SQE. */
export interface Fixture { h: Host; b: Backend; name: BackendName; ring: number; fd: number; slab: number; sqe: number }

export interface Case {
  name: string;
  expect: Result;
  run: (f: Fixture) => Result | Promise<Result>;
  /** Backends the case cannot run on, and why. */
  skip?: Partial<Record<BackendName, string>>;
  /**
   * Known differences: the result a backend gives instead, and why. The suite
   * checks that it still gives exactly that (so a fix shows up as a failure
   * that asks for the entry to go) and the table marks the cell with `!`.
   */
  differs?: Partial<Record<BackendName, { got: Result; why: string }>>;
}

const NATIVE_ONLY_FDS = {
  sim: 'its fds are virtual: a process fd number may be one of its own sockets',
  scripted: 'its fds are virtual: a process fd number may be one of its own sockets',
};
const JS_TYPES = {
  wasm: 'the Wasm signature fixes the types', sim: 'a TypeScript host: types are the checker\'s job',
  scripted: 'a TypeScript host: types are the checker\'s job',
};
const SCRIPTED_NOT_KERNEL = { scripted: 'a CQE script, not a kernel: it does not model this' };

/** Handles no backend hands out (a fixture's live handles are small numbers). */
const BOGUS = [0xdead, 12345678, 0x7fff_ffff, 0xffff_ffff];
const FDS_NOT_OWNED = [-1, 0, 1, 2, 1 << 24, 1 << 30, 0x7fff_ffff];

const e = (n: number, v: number): number[] => Array.from({ length: n }, () => v);

/** The errno a Backend method threw (0 when it returned). */
function thrown(f: () => unknown): number {
  try { f(); return 0; } catch (err) { return (err as { errno?: number }).errno ?? -1; }
}

export const badInputCases: Case[] = [
  // ---- ring handles
  { name: 'every ring call on bogus ring handles', expect: e(BOGUS.length * RING_CALLS, -EBADF),
    run: ({ h }) => BOGUS.flatMap((r) => ringCalls(h, r)), skip: SCRIPTED_NOT_KERNEL },
  { name: 'every ring call on a destroyed ring', expect: e(RING_CALLS, -EBADF),
    run: ({ h }) => ringCalls(h, deadRing(h)), skip: SCRIPTED_NOT_KERNEL },
  { name: 'create-ring with 0 entries', expect: -EINVAL, run: ({ h }) => h.createRing(0), skip: SCRIPTED_NOT_KERNEL },
  { name: 'create-ring with 2^20 entries (more than the kernel allows)', expect: -1,
    run: ({ h }) => Math.sign(h.createRing(1 << 20)), skip: SCRIPTED_NOT_KERNEL },
  { name: 'create-ring-ex with an unknown setup flag', expect: -EINVAL, run: ({ h }) => h.createRingEx(8, 0x8000_0000, -1, 0),
    skip: SCRIPTED_NOT_KERNEL },
  { name: 'setup-buf-ring with 0 entries', expect: -EINVAL, run: ({ h, ring }) => h.setupBufRing(ring, 0, 0, 0) },
  { name: 'setup-buf-ring with PBUF_RING_MMAP (kernel-allocated memory)', expect: -EINVAL,
    run: ({ h, ring }) => h.setupBufRing(ring, 8, 1, 1) },
  // ---- SQE handles
  { name: 'every SQE call on bogus SQE handles', expect: e(BOGUS.length * SQE_CALLS, -EBADF),
    run: ({ h, fd, slab }) => BOGUS.flatMap((s) => sqeCalls(h, s, fd, slab)) },
  { name: 'every SQE call on a submitted SQE', expect: [0, 1, ...e(SQE_CALLS, -EBADF)],
    run: ({ h, ring, sqe, fd, slab }) => [h.sqeSetData64(sqe, 5n), Math.sign(h.submit(ring)), ...sqeCalls(h, sqe, fd, slab)] },
  { name: 'every SQE call after destroy-ring', expect: e(SQE_CALLS, -EBADF),
    run: ({ h, ring, sqe, fd, slab }) => { h.destroyRing(ring); return sqeCalls(h, sqe, fd, slab); }, skip: SCRIPTED_NOT_KERNEL },
  { name: 'the helper\'s never-live handle values (0, 1, 63, 127), a ring handle as an SQE, an SQE of the next epoch',
    expect: [...e(4 * RING_CALLS, -EBADF), ...e(2 * SQE_CALLS, -EBADF)],
    skip: { sim: 'small numbers are live handles there', scripted: 'small numbers are live handles there' },
    run: ({ h, ring, fd, slab }) => [...[0, 1, 63, 64 + 63].flatMap((r) => ringCalls(h, r)),
      ...[ring, h.getSqe(ring) + (1 << 6)].flatMap((s) => sqeCalls(h, s, fd, slab))] },
  // ---- buffer rings
  { name: 'buf-ring calls on bogus buffer-ring handles', expect: e(BOGUS.length * 3, -EBADF), skip: SCRIPTED_NOT_KERNEL,
    run: ({ h, ring, slab }) => BOGUS.flatMap((b) => [h.bufRingAdd(b, slab, 0, 512, 0, 15, 0), h.bufRingAdvance(b, 1), h.freeBufRing(ring, b)]) },
  { name: 'buf-ring-add: bid, mask, idx, len, range, slab', skip: SCRIPTED_NOT_KERNEL,
    expect: [0, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EFAULT, ...e(BOGUS.length, -EBADF)],
    run: ({ h, ring, slab }) => {
      const br = h.setupBufRing(ring, 8, 1, 0); // 8 x 512 = the fixture's 4 KiB slab
      return [
        h.bufRingAdd(br, slab, 0, 512, 7, 7, 0), // the last bid
        h.bufRingAdd(br, slab, 0, 512, 8, 7, 0), // bid == entries
        h.bufRingAdd(br, slab, 0, 512, 0xffff, 7, 0),
        h.bufRingAdd(br, slab, 0, 512, 0xffff_ffff, 7, 0),
        h.bufRingAdd(br, slab, 0, 512, 0, 8, 0), // mask != entries - 1
        h.bufRingAdd(br, slab, 0, 512, 0, 15, 0), // mask too wide
        h.bufRingAdd(br, slab, 0, 512, 0, 7, 8), // idx past the ring
        h.bufRingAdd(br, slab, 0, 0, 0, 7, 0), // len 0
        h.bufRingAdd(br, slab, 4096 - 10, 512, 0, 7, 0),
        ...BOGUS.map((s) => h.bufRingAdd(br, s, 0, 512, 0, 7, 0)),
      ];
    } },
  { name: 'buf-ring-advance past what was added', expect: [-EINVAL, 0, 0, 0, -EINVAL, 0, -EINVAL, 0, -EINVAL],
    skip: SCRIPTED_NOT_KERNEL,
    run: ({ h, ring, slab }) => {
      const br = h.setupBufRing(ring, 8, 1, 0);
      return [h.bufRingAdvance(br, 1), ...[0, 1, 2].map((i) => h.bufRingAdd(br, slab, i * 512, 512, i, 7, i)),
        h.bufRingAdvance(br, 4), h.bufRingAdvance(br, 2), h.bufRingAdvance(br, 2), h.bufRingAdvance(br, 1), h.bufRingAdvance(br, 1)];
    } },
  { name: 'buffer rings: same group twice, another ring\'s, freed, freed twice; a registered slab is busy',
    expect: [-EEXIST, -EBUSY, -EBADF, 0, -EBADF, -EBADF, -EBADF, 0], skip: SCRIPTED_NOT_KERNEL,
    run: ({ h, ring, slab }) => {
      const br = h.setupBufRing(ring, 8, 1, 0);
      const twice = h.setupBufRing(ring, 8, 1, 0);
      h.bufRingAdd(br, slab, 0, 512, 0, 7, 0);
      const busy = h.slabDestroy(slab);
      const r2 = h.createRing(2);
      const other = h.freeBufRing(r2, br);
      h.destroyRing(r2);
      const freed = h.freeBufRing(ring, br);
      const out = [twice, busy, other, freed, h.freeBufRing(ring, br), h.bufRingAdd(br, slab, 0, 512, 0, 7, 0), h.bufRingAdvance(br, 1)];
      return [...out, h.slabDestroy(h.slabCreate(16)) /* slabs still work */];
    } },
  { name: 'destroy-ring frees its buffer rings and their slab references; INC accepted', expect: [1, 0, -EBUSY, -EBADF, 0],
    skip: SCRIPTED_NOT_KERNEL,
    run: ({ h }) => {
      const r = h.createRing(2);
      const s = h.slabCreate(4096);
      const br = h.setupBufRing(r, 2, 3, IOU_PBUF_RING_INC);
      const out = [br > 0 ? 1 : br, h.bufRingAdd(br, s, 0, 4096, 0, 1, 0), h.slabDestroy(s)];
      h.destroyRing(r);
      return [...out, h.bufRingAdvance(br, 1), h.slabDestroy(s)];
    } },
  // ---- slabs and ranges
  { name: 'slab-destroy of bogus, destroyed-twice slabs; prep-send from a destroyed slab', expect: [...e(BOGUS.length, -EBADF), 0, -EBADF, -EBADF],
    run: ({ h, fd, sqe }) => {
      const s = h.slabCreate(64);
      return [...BOGUS.map((b) => h.slabDestroy(b)), h.slabDestroy(s), h.slabDestroy(s), h.prepSend(sqe, fd, s, 0, 1, 0)];
    } },
  { name: 'ranges inside a slab: prep-send, prep-sendmsg, an empty range at the end', expect: [0, 0, 0, 0, 0, 0, 0],
    run: ({ h, ring, fd, slab }) => [
      ...[[0, 4096], [4095, 1], [100, 200], [4096, 0]].map(([o, l]) => h.prepSend(h.getSqe(ring), fd, slab, o!, l!, 0)),
      h.prepSendmsg(h.getSqe(ring), fd, [{ slab, offset: 0, len: 4 }, { slab, offset: 4092, len: 4 }], 0),
      h.prepSendmsg(h.getSqe(ring), fd, Array.from({ length: 64 }, () => ({ slab, offset: 0, len: 1 })), 0),
      h.bufRingAdd(h.setupBufRing(ring, 8, 2, 0), slab, 0, 4096, 0, 7, 0),
    ],
    skip: SCRIPTED_NOT_KERNEL },
  { name: 'ranges outside a slab: prep-send, prep-sendmsg, buf-ring-add -> -EFAULT', expect: e(7 * 3, -EFAULT), skip: SCRIPTED_NOT_KERNEL,
    run: ({ h, ring, fd, slab }) => {
      const br = h.setupBufRing(ring, 8, 2, 0);
      const outside = [[4096, 1], [0, 4097], [4095, 2], [0xffff_ffff, 2], [1, 0xffff_ffff], [0x8000_0000, 0x8000_0000], [8192, 16]];
      return outside.flatMap(([o, l]) => [
        h.prepSend(h.getSqe(ring), fd, slab, o!, l!, 0),
        h.prepSendmsg(h.getSqe(ring), fd, [{ slab, offset: 0, len: 4 }, { slab, offset: o!, len: l! }], 0),
        h.bufRingAdd(br, slab, o!, l!, 0, 7, 0),
      ]);
    } },
  { name: 'prep-send / prep-sendmsg from bogus slabs', expect: e(BOGUS.length * 2, -EBADF),
    run: ({ h, ring, fd }) => BOGUS.flatMap((s) => [h.prepSend(h.getSqe(ring), fd, s, 0, 1, 0),
      h.prepSendmsg(h.getSqe(ring), fd, [{ slab: s, offset: 0, len: 1 }], 0)]) },
  // ---- fds
  { name: 'every fd call on fds the guest never owned (stdio included)', expect: e(FDS_NOT_OWNED.length * FD_CALLS, -EBADF),
    run: ({ h, sqe, slab }) => FDS_NOT_OWNED.flatMap((f) => fdCalls(h, f, sqe, slab)) },
  { name: 'a closed fd is no longer the guest\'s: every fd call on it', expect: [1, 0, 0, ...e(FD_CALLS, -EBADF)],
    run: ({ h, b, sqe, slab }) => {
      const owned = b.ownedFds();
      const fd = h.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      const up = b.ownedFds() - owned;
      return [up, h.close(fd), b.ownedFds() - owned, ...fdCalls(h, fd, sqe, slab)];
    } },
  { name: 'fcntl and close on every fd of this process (libuv\'s, the ring\'s ...)', skip: { ...NATIVE_ONLY_FDS },
    expect: [1, 0, 0], run: async ({ h, fd }) => {
      const { readdirSync } = await import('node:fs');
      const mine = new Set([fd]);
      const all = readdirSync('/proc/self/fd').map(Number).filter((f) => !mine.has(f));
      const { readlinkSync } = await import('node:fs');
      const ringFd = all.some((f) => { try { return readlinkSync(`/proc/self/fd/${f}`).includes('io_uring'); } catch { return false; } });
      const bad = all.filter((f) => h.fcntl(f, 1, 0n) !== -EBADF || h.close(f) !== -EBADF);
      return [ringFd ? 1 : 0, bad.length, readdirSync('/proc/self/fd').length - all.length - 1];
    } },
  // ---- socket-level errors (the kernel's)
  { name: 'socket and fcntl arguments the kernel refuses', expect: [-EAFNOSUPPORT, -EINVAL, -EINVAL, 1, 1],
    skip: SCRIPTED_NOT_KERNEL,
    run: ({ h, fd }) => [h.socket(12345, SOCK_STREAM, 0), h.fcntl(fd, 0 /* F_DUPFD */, 10n), h.fcntl(fd, F_GETFL, 1n << 40n),
      (h.fcntl(fd, F_GETFL, 0n) & O_NONBLOCK) !== 0 ? 1 : 0, (h.fcntl(fd, 1 /* F_GETFD */, 0n) & 1) !== 0 ? 1 : 0] },
  { name: 'setsockopt SO_LINGER (wants a struct), getpeername unconnected', expect: [-EINVAL, -ENOTCONN],
    skip: SCRIPTED_NOT_KERNEL,
    differs: { sim: { got: [-ENOPROTOOPT, -ENOTCONN], why: 'the model answers an option it does not know with ENOPROTOOPT' } }, run: ({ h, fd }) => [h.setsockopt(fd, SOL_SOCKET, 13, 1), h.getpeername(fd).ret] },
  { name: 'bind to port 70000', expect: -EINVAL, skip: SCRIPTED_NOT_KERNEL, // wasm: the trampoline's port is a u16
    differs: { sim: { got: 0, why: 'the model does not range-check the port (the helper does: the WIT type is u16)' } },
    run: ({ h, fd }) => h.bind(fd, { port: 70000, addr: 0 }) },
  { name: 'bind to a port a guest listener holds', expect: -EADDRINUSE, skip: SCRIPTED_NOT_KERNEL,
    run: ({ h, fd }) => {
      const l = listener(h);
      const port = h.getsockname(l).port;
      try { return h.bind(fd, { port, addr: LOOPBACK4 }); } finally { h.close(l); }
    } },
  // ---- prep flags
  { name: 'prep flag validation: accept, recv group, cancel', expect: [-EINVAL, 0, -EINVAL, -EINVAL, 0],
    skip: SCRIPTED_NOT_KERNEL,
    run: ({ h, ring }) => {
      const l = listener(h);
      try {
        return [h.prepMultishotAccept(h.getSqe(ring), l, 0x1), h.prepMultishotAccept(h.getSqe(ring), l, SOCK_NONBLOCK),
          h.prepRecvMultishotSelect(h.getSqe(ring), l, 0x10000, 0), h.prepCancel64(h.getSqe(ring), 1n, 0x2 /* CANCEL_FD */),
          h.prepCancel64(h.getSqe(ring), 1n, IORING_ASYNC_CANCEL_ALL)];
      } finally { h.destroyRing(ring); h.close(l); }
    } },
  { name: 'an accept sharing its user-data with a NOP or a recv is refused at submit; re-tagged it goes',
    expect: [-EINVAL, 2, 2, -EINVAL, 2, 2], skip: SCRIPTED_NOT_KERNEL,
    run: ({ h, fd }) => (['nop', 'recv'] as const).flatMap((other) => {
      const r = h.createRing(8);
      const l = listener(h);
      try {
        let s = h.getSqe(r);
        h.prepMultishotAccept(s, l, SOCK_NONBLOCK | SOCK_CLOEXEC);
        h.sqeSetData64(s, 0x5ba7edn);
        s = h.getSqe(r);
        if (other === 'recv') h.prepRecvMultishotSelect(s, fd, 0, 0);
        h.sqeSetData64(s, 0x5ba7edn);
        const refused = h.submit(r);
        const ready = h.sqReady(r);
        h.sqeSetData64(s, 0x5ba7een);
        return [refused, ready, h.submit(r)];
      } finally { h.destroyRing(r); h.close(l); }
    }) },
  { name: 'an accept and a NOP under one user-data: refused, re-tagged, the accepted fd is the guest\'s and closes',
    expect: [-EINVAL, 2, 1, 0], skip: { sim: 'its clients live in the simulated world (test/sim covers accept ownership)', ...SCRIPTED_NOT_KERNEL },
    run: async ({ h, b }) => {
      const net = await import('node:net');
      const ring = h.createRing(8);
      const l = listener(h);
      const owned = b.ownedFds();
      let s = h.getSqe(ring);
      h.prepMultishotAccept(s, l, SOCK_NONBLOCK | SOCK_CLOEXEC);
      h.sqeSetData64(s, 0x5ba7edn);
      s = h.getSqe(ring);
      h.sqeSetData64(s, 0x5ba7edn);
      const refused = h.submit(ring);
      h.sqeSetData64(s, 0x5ba7een);
      const went = h.submit(ring);
      const c = net.connect({ port: h.getsockname(l).port, host: '127.0.0.1' });
      c.on('error', () => {});
      let fd = -1;
      for (const end = Date.now() + 5000; fd < 0 && Date.now() < end;) {
        h.enter(ring, 0, 0, IORING_ENTER_GETEVENTS, { tvSec: 0n, tvNsec: 0n });
        const got = h.peekBatchCqe(ring, 16);
        const dv = new DataView(got.buffer, got.byteOffset, got.byteLength);
        for (let o = 0; o < got.byteLength; o += 16) if (dv.getBigUint64(o, true) === 0x5ba7edn && dv.getInt32(o + 8, true) >= 3) fd = dv.getInt32(o + 8, true);
        h.cqAdvance(ring, got.byteLength / 16);
        await new Promise((res) => setTimeout(res, 2));
      }
      const mine = b.ownedFds() - owned;
      const closed = h.close(fd);
      c.destroy();
      h.destroyRing(ring);
      h.close(l);
      return [refused, went, mine, closed];
    } },
  // ---- backend-side memory (Backend, not Host)
  { name: 'pinned slabs: empty buffer, guest destroy refused, range, unpin twice, unpin a created slab',
    expect: [-EINVAL, 1, -EBUSY, -EFAULT, 0, 0, -EBADF, -EBADF, -EINVAL], skip: SCRIPTED_NOT_KERNEL,
    run: ({ h, b, ring, fd }) => {
      const buf = new ArrayBuffer(100);
      const s = b.pinSlab(buf);
      const created = h.slabCreate(16);
      const out = [thrown(() => b.pinSlab(new ArrayBuffer(0))), b.slabBuffer(s) === buf ? 1 : 0, h.slabDestroy(s),
        h.prepSend(h.getSqe(ring), fd, s, 99, 2, 0), h.prepSend(h.getSqe(ring), fd, s, 0, 100, 0)];
      h.destroyRing(ring); // nothing submitted: the prepared sends are dropped, the slab is free to go
      out.push(thrown(() => b.unpinSlab(s)), thrown(() => b.unpinSlab(s)), thrown(() => b.slabBuffer(s)),
        thrown(() => b.unpinSlab(created)));
      h.slabDestroy(created);
      return out;
    } },
  { name: 'slab memory: the same ArrayBuffer while alive, detached on destroy', expect: [1, 1, 0, -EBADF],
    skip: { sim: 'plain ArrayBuffers: nothing to detach', scripted: 'plain ArrayBuffers: nothing to detach' },
    run: ({ h, b }) => {
      const s = h.slabCreate(10000);
      const ab = b.slabBuffer(s);
      const same = b.slabBuffer(s) === ab ? 1 : 0;
      new Uint8Array(ab).set([1, 2, 3], 9997);
      const seen = new Uint8Array(b.slabBuffer(s))[9999] === 3 ? 1 : 0;
      h.slabDestroy(s);
      return [same, seen, ab.byteLength, thrown(() => b.slabBuffer(s))];
    } },
  // ---- pure helpers, inet-pton, affinity
  { name: 'pure CQE helpers', expect: [1, 1, 0, 0xffff, -EINVAL],
    skip: { wasm: 'they run inside the probe, on the CQEs it reaps (test/bridge)' },
    run: ({ h }) => [
      h.cqeGetData64({ userData: 0xdead_beef_0000_0001n, res: -1, flags: 0 }) === 0xdead_beef_0000_0001n ? 1 : 0,
      h.cqeHasBuffer({ userData: 0n, res: 0, flags: 1 | (5 << 16) }) ? 1 : 0,
      h.cqeHasBuffer({ userData: 0n, res: 0, flags: 2 }) ? 1 : 0,
      h.cqeBufferId({ userData: 0n, res: 0, flags: (0xffff << 16 | 1) >>> 0 }),
      h.cqeBufferId({ userData: 0n, res: 0, flags: 5 << 16 }),
    ] },
  { name: 'inet-pton: v4, v6, malformed, embedded NUL, 1000 bytes, AF_UNIX', expect: [1, 0x0a010203, 1, 0, 0, 0, -EAFNOSUPPORT],
    skip: SCRIPTED_NOT_KERNEL,
    run: ({ h }) => {
      const v4 = h.inetPton(2, '10.1.2.3');
      const v6 = h.inetPton(10, '2001:db8::ff00:42:8329');
      return [v4.ret, Number(v4.lo), v6.ret === 1 && v6.hi === 0x20010db800000000n && v6.lo === 0x0000ff0000428329n ? 1 : 0,
        h.inetPton(2, '256.1.1.1').ret, h.inetPton(2, '1.2.3.4\u0000junk').ret, h.inetPton(2, 'x'.repeat(1000)).ret,
        h.inetPton(1, '1.2.3.4').ret];
    } },
  { name: 'pin-current-thread-to-cpu: -1 and 2^20 refused, CPU 0 taken', expect: [-EINVAL, -EINVAL, 0],
    skip: { sim: 'no CPUs in the model', scripted: 'no CPUs in the script' },
    run: ({ h }) => [h.pinCurrentThreadToCpu(-1), h.pinCurrentThreadToCpu(1 << 20), h.pinCurrentThreadToCpu(0)] },
  { name: 'a seeded storm of 30k plausible and implausible calls: no crash, everything it made is freed',
    expect: [0, 0, 0, 0], skip: SCRIPTED_NOT_KERNEL, run: ({ h, b }) => storm(h, b, 30_000) },
  { name: 'after all of it the process lives: a NOP round trip', expect: [0, 1, 0, 1, 0], skip: SCRIPTED_NOT_KERNEL,
    run: ({ h, ring, sqe }) => {
      const set = h.sqeSetData64(sqe, 77n);
      const sub = h.submitAndWait(ring, 1);
      const c = h.waitCqe(ring);
      return [set, sub, c.ret, c.cqe.userData === 77n ? 1 : 0, h.cqeSeen(ring)];
    } },
  { name: 'wrong JS types throw TypeError, not crash', expect: e(7, 1), skip: JS_TYPES,
    run: ({ h, b }) => {
      const x = h as unknown as Record<string, (...args: unknown[]) => unknown>;
      // The backend's pure CQE helpers are JS (bridge/native.ts): the addon's own is the one that checks.
      const addon = loadNativeAddon() as unknown as Record<string, (...args: unknown[]) => unknown>;
      const calls: (() => unknown)[] = [() => x.getSqe!('a'), () => x.sqeSetData64!(1, {}), () => x.waitCqeTimeout!(1, null),
        () => x.prepSendmsg!(1, 1, 'x', 0), () => x.inetPton!(2, 5), () => addon.cqeHasBuffer!(1, undefined),
        () => b.pinSlab(new Uint8Array(4) as unknown as ArrayBuffer)];
      return calls.map((c) => { try { c(); return 0; } catch (err) { return err instanceof TypeError ? 1 : 0; } });
    } },
];

