// The probe guest (wasm/probe, world `probe`) seen as a `Host`: every call goes
// JS -> Wasm trampoline -> the import -> the native helper, so the contract
// table also runs through the canonical-ABI path the core uses. Where the
// probe's trampoline takes other shapes (timespecs as one `timeout-ns`, records
// as fields) this converts; what cannot be said through it throws
// NotExpressible, and the contract suite reports the case as not run there.
import type { Host } from '../../bridge/backend.ts';
import type { Timespec } from '../../bridge/gen/types/interfaces/zergling-reactor-host.js';
import type { Probe } from '../bridge/probe.ts';

export class NotExpressible extends Error {}

/** A timespec as the probe's `timeout-ns`; one that no ns count can carry (out of range) is not expressible. */
function ns(ts: Timespec): bigint {
  if (ts.tvSec < 0n || ts.tvNsec < 0n || ts.tvNsec >= 1_000_000_000n) throw new NotExpressible('timespec out of range');
  return ts.tvSec * 1_000_000_000n + ts.tvNsec;
}

/** The trampoline's port is a u16: a larger one cannot be passed from Wasm at all. */
function port(n: number): number {
  if (n > 0xffff) throw new NotExpressible('port > 65535');
  return n;
}

export function probeHost(p: Probe): Host {
  const cqe = (r: { ret: number; userData: bigint; res: number; flags: number }) =>
    ({ ret: r.ret, cqe: { userData: r.userData, res: r.res, flags: r.flags } });
  const pure = (): never => { throw new NotExpressible('the pure CQE helpers run inside the probe, on CQEs it reaps'); };
  const host = {
    createRing: (e: number) => p.createRing(e),
    createRingEx: (e: number, f: number, cpu: number, idle: number) => p.createRingEx(e, f, cpu, idle),
    destroyRing: (r: number) => p.destroyRing(r),
    getRingFlags: (r: number) => p.getRingFlags(r),
    getSqe: (r: number) => p.getSqe(r),
    submit: (r: number) => p.submit(r),
    submitAndWait: (r: number, n: number) => p.submitAndWait(r, n),
    submitAndWaitTimeout: (r: number, n: number, ts: Timespec) => p.submitAndWaitTimeout(r, n, ns(ts)),
    enter: (r: number, a: number, b: number, f: number, ts: Timespec | undefined) => p.enter(r, a, b, f, ts === undefined ? -1n : ns(ts)),
    waitCqe: (r: number) => cqe(p.waitCqe(r)),
    waitCqeTimeout: (r: number, ts: Timespec) => cqe(p.waitCqeTimeout(r, ns(ts))),
    waitCqes: (r: number, n: number, ts: Timespec) => cqe(p.waitCqes(r, n, ns(ts))),
    // The probe decodes the CQEs itself: encoded back into io_uring_cqe records.
    peekBatchCqe: (r: number, max: number) => {
      const got = p.reap(r, max);
      const out = new Uint8Array(got.length * 16);
      const dv = new DataView(out.buffer);
      got.forEach((c, i) => {
        dv.setBigUint64(i * 16, c.userData, true);
        dv.setInt32(i * 16 + 8, c.res, true);
        dv.setUint32(i * 16 + 12, c.flags, true);
      });
      return out;
    },
    cqeSeen: (r: number) => p.cqeSeen(r),
    cqAdvance: (r: number, n: number) => p.cqAdvance(r, n),
    cqReady: (r: number) => p.cqReady(r),
    sqReady: (r: number) => p.sqReady(r),
    prepMultishotAccept: (s: number, fd: number, f: number) => p.prepMultishotAccept(s, fd, f),
    prepRecvMultishotSelect: (s: number, fd: number, g: number, f: number) => p.prepRecvMultishotSelect(s, fd, g, f),
    prepRecvSelect: (s: number, fd: number, g: number, f: number) => p.prepRecvSelect(s, fd, g, f),
    prepSend: (s: number, fd: number, slab: number, o: number, l: number, f: number) => p.prepSend(s, fd, slab, o, l, f),
    prepSendmsg: (s: number, fd: number, iov: { slab: number; offset: number; len: number }[], f: number) => p.prepSendmsg(s, fd, iov, f),
    prepCancel64: (s: number, d: bigint, f: number) => p.prepCancel64(s, d, f),
    sqeSetData64: (s: number, d: bigint) => p.sqeSetData64(s, d),
    queueMultishotAccept: (r: number, fd: number, f: number, t: bigint) => p.queueMultishotAccept(r, fd, f, t),
    queueRecvMultishotSelect: (r: number, fd: number, g: number, f: number, t: bigint) => p.queueRecvMultishotSelect(r, fd, g, f, t),
    queueRecvSelect: (r: number, fd: number, g: number, f: number, t: bigint) => p.queueRecvSelect(r, fd, g, f, t),
    queueSend: (r: number, fd: number, slab: number, o: number, l: number, f: number, t: bigint) => p.queueSend(r, fd, slab, o, l, f, t),
    queueSendmsg: (r: number, fd: number, iov: { slab: number; offset: number; len: number }[], f: number, t: bigint) =>
      p.queueSendmsg(r, fd, iov, f, t),
    queueCancel64: (r: number, d: bigint, f: number, t: bigint) => p.queueCancel64(r, d, f, t),
    cqeGetData64: pure,
    setupBufRing: (r: number, e: number, g: number, f: number) => p.setupBufRing(r, e, g, f),
    freeBufRing: (r: number, br: number) => p.freeBufRing(r, br),
    bufRingAdd: (br: number, slab: number, o: number, l: number, bid: number, m: number, i: number) => p.bufRingAdd(br, slab, o, l, bid, m, i),
    bufRingAdvance: (br: number, n: number) => p.bufRingAdvance(br, n),
    cqeHasBuffer: pure,
    cqeBufferId: pure,
    slabCreate: (n: number) => p.slabCreate(n),
    slabDestroy: (s: number) => p.slabDestroy(s),
    socket: (d: number, t: number, pr: number) => p.socket(d, t, pr),
    bind: (fd: number, a: { port: number; addr: number }) => p.bind(fd, port(a.port), a.addr),
    bind6: (fd: number, a: { port: number; flowinfo: number; hi: bigint; lo: bigint; scopeId: number }) =>
      p.bind6(fd, port(a.port), a.flowinfo, a.hi, a.lo, a.scopeId),
    listen: (fd: number, n: number) => p.listen(fd, n),
    setsockopt: (fd: number, l: number, o: number, v: number) => p.setsockopt(fd, l, o, v),
    close: (fd: number) => p.close(fd),
    fcntl: (fd: number, c: number, a: bigint) => p.fcntl(fd, c, a),
    inetPton: (af: number, src: string) => p.inetPton(af, src),
    shutdown: (fd: number, how: number) => p.shutdown(fd, how),
    getsockname: (fd: number) => p.getsockname(fd),
    getpeername: (fd: number) => p.getpeername(fd),
    pinCurrentThreadToCpu: (cpu: number) => p.pinCurrentThreadToCpu(cpu),
  };
  return host as unknown as Host;
}
