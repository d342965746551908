// The op table (native/src/zl_track.cc): the kernel's user_data is an op-slot
// index + generation, so accounting a CQE is array indexing — no hash lookup,
// no syscall. Real echo traffic over io_uring with the default ring flags,
// once through the fused queue-* imports driven from JS and once through the
// reactor core (get-sqe + prep-* + set-data64) under the load generator; the
// helper's counters (ringInfo) must show 0 hash lookups and 0 syscalls on the
// completion path. Then the table's limits and the cancel/target rules.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as net from 'node:net';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createNativeBackend } from '../../bridge/native.ts';
import type { NativeAddon, RingInfo } from '../../bridge/native.ts';
import { loadReactor } from '../../bridge/index.ts';
import { resolveOptions } from '../../src/options.ts';
import {
  CQE_F, E, SOCK_NONBLOCK, addon, fdCount, listen4, parseCqes, reapNow, reapUntil, sleep, submitOne,
} from './helpers.ts';
import type { Cqe } from './helpers.ts';
import { tokenHalves } from '../../bridge/backend.ts';

const a = addon();
const fds0 = fdCount();
// The defaults of listen() (src/options.ts): SINGLE_ISSUER | COOP_TASKRUN.
const DEFAULT_FLAGS = resolveOptions({}).config.ringFlags;
const ASYNC_CANCEL_ALL = 1;
const ECANCELED = 125, ENOENT = 2;

function info(g: NativeAddon, ring: number): RingInfo {
  const r = g.ringInfo(ring);
  if (typeof r === 'number') throw new Error(`ringInfo: ${r}`);
  return r;
}

function counters(i: RingInfo): string {
  return `cqes ${i.cqes} cqeHashLookups ${i.cqeHashLookups} cqeSyscalls ${i.cqeSyscalls} cqeStale ${i.cqeStale} ` +
    `sqeHashLookups ${i.sqeHashLookups} queued ${i.queued} flushedLegacy ${i.flushedLegacy} opSlots ${i.opSlots}`;
}

test('queue-* echo over io_uring (default ring flags): 0 hash lookups, 0 syscalls per CQE', async () => {
  const g = a.newGuest();
  const ring = g.createRingEx(256, DEFAULT_FLAGS, -1, 0);
  assert.ok(ring > 0, `ring ${ring}`);
  assert.is(Number(g.getRingFlags(ring)) & DEFAULT_FLAGS, DEFAULT_FLAGS);
  const [lfd, port] = listen4(g);
  const BUFS = 64, BUFSZ = 2048;
  const rslab = g.slabCreate(BUFS * BUFSZ);
  const br = g.setupBufRing(ring, BUFS, 3, 0);
  assert.ok(br > 0);
  for (let i = 0; i < BUFS; i++) assert.is(g.bufRingAdd(br, rslab, i * BUFSZ, BUFSZ, i, BUFS - 1, i), 0);
  assert.is(g.bufRingAdvance(br, BUFS), 0);

  // Tokens as the core packs them: kind << 56 | fd.
  const ACCEPT = 1n << 56n, RECV = 2n << 56n, SEND = 3n << 56n, CANCEL = 4n << 56n;
  assert.is(g.queueMultishotAccept(ring, lfd, SOCK_NONBLOCK, ...tokenHalves(ACCEPT | BigInt(lfd))), 0);
  assert.is(g.submit(ring), 1);

  const CLIENTS = 16, ROUNDS = 40;
  const conns = new Set<number>();
  const sends = new Map<number, number>(); // bid -> recv length, until its send CQE
  let cqes = 0, sendsQueued = 0, recvs = 0;
  let acceptEnd: Cqe | undefined;
  const others: Cqe[] = [];
  const pump = (): void => {
    const got = reapNow(g, ring);
    cqes += got.length;
    for (const c of got) {
      const kind = c.userData >> 56n, fd = Number(c.userData & 0xffffffffn);
      if (kind === 1n) {
        if (c.res >= 0) {
          conns.add(c.res);
          assert.is(g.queueRecvMultishotSelect(ring, c.res, 3, 0, ...tokenHalves(RECV | BigInt(c.res))), 0);
        }
        if (!(c.flags & CQE_F.MORE)) acceptEnd = c;
      } else if (kind === 2n) {
        if (c.res > 0) {
          assert.ok(c.flags & CQE_F.BUFFER);
          const bid = c.flags >>> 16;
          recvs++;
          // Echo straight from the receive slab: send and sendmsg in turn.
          const rc = (recvs & 1)
            ? g.queueSend(ring, fd, rslab, bid * BUFSZ, c.res, 0, ...tokenHalves(SEND | BigInt(bid) << 32n | BigInt(fd)))
            : g.queueSendmsg(ring, fd, [{ slab: rslab, offset: bid * BUFSZ, len: c.res }], 0, ...tokenHalves(SEND | BigInt(bid) << 32n | BigInt(fd)));
          assert.is(rc, 0);
          sends.set(bid, c.res);
          sendsQueued++;
        }
        if (!(c.flags & CQE_F.MORE) && c.res <= 0) {
          conns.delete(fd);
          assert.is(g.close(fd), 0);
        } else if (!(c.flags & CQE_F.MORE)) {
          assert.is(g.queueRecvMultishotSelect(ring, fd, 3, 0, ...tokenHalves(RECV | BigInt(fd))), 0); // re-arm
        }
      } else if (kind === 3n) {
        const bid = Number((c.userData >> 32n) & 0xffffn);
        assert.is(c.res, sends.get(bid), 'a whole echo went out');
        sends.delete(bid);
        assert.is(g.bufRingAdd(br, rslab, bid * BUFSZ, BUFSZ, bid, BUFS - 1, 0), 0);
        assert.is(g.bufRingAdvance(br, 1), 0);
      } else {
        others.push(c);
      }
    }
    if (g.sqReady(ring) > 0) assert.ok(g.submit(ring) >= 0);
  };

  const clients = Promise.all(Array.from({ length: CLIENTS }, (_, i) => new Promise<void>((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    let round = 0, buf = '';
    const msg = (r: number): string => `client ${i} round ${r} ${'x'.repeat(i * 7 + r)}\n`;
    s.on('connect', () => s.write(msg(0)));
    s.on('data', (d) => {
      buf += d.toString();
      while (round < ROUNDS && buf.length >= msg(round).length) {
        if (buf.slice(0, msg(round).length) !== msg(round)) return reject(new Error(`client ${i}: bad echo ${buf}`));
        buf = buf.slice(msg(round).length);
        round++;
        if (round === ROUNDS) s.end(); else s.write(msg(round));
      }
    });
    s.on('close', () => (round === ROUNDS ? resolve() : reject(new Error(`client ${i}: closed at round ${round}`))));
    s.on('error', reject);
  })));
  let finished = false;
  clients.then(() => (finished = true), () => (finished = true));
  const deadline = Date.now() + 10_000;
  while (!finished && Date.now() < deadline) { pump(); await sleep(1); }
  await clients;
  // the peers closed: every connection's recv ends with res 0
  const pumpUntil = async (pred: () => boolean, ms = 5000): Promise<void> => {
    const end = Date.now() + ms;
    for (pump(); !pred() && Date.now() < end; pump()) await sleep(1);
  };
  await pumpUntil(() => conns.size === 0 && sends.size === 0);
  assert.is(conns.size, 0, 'every connection ended');
  assert.is(sends.size, 0, 'every send completed');

  // cancel the accept by its token (fused), and an unknown token: -ENOENT in the CQE, as the simulator
  assert.is(g.queueCancel64(ring, ACCEPT | BigInt(lfd), 0, ...tokenHalves(CANCEL | 1n)), 0);
  assert.is(g.queueCancel64(ring, 0xdeadn, 0, ...tokenHalves(CANCEL | 2n)), 0);
  assert.is(g.submit(ring), 2);
  await pumpUntil(() => acceptEnd !== undefined && others.length >= 2);
  assert.is(acceptEnd!.res, -ECANCELED);
  const byUd = new Map(others.map((c) => [c.userData, c.res]));
  assert.is(byUd.get(CANCEL | 1n), 0, 'cancel found the accept');
  assert.is(byUd.get(CANCEL | 2n), -ENOENT, 'unknown target: -ENOENT');

  const i = info(g, ring);
  console.log(`  queue-* echo: ${CLIENTS} clients x ${ROUNDS} rounds, ${recvs} recvs, ${sendsQueued} sends, CQEs seen ${cqes}`);
  console.log(`  counters: ${counters(i)}`);
  assert.ok(cqes >= CLIENTS * ROUNDS * 2, `CQEs seen ${cqes}`);
  assert.is(i.cqes, cqes, 'the helper accounted for every CQE the guest read');
  assert.is(i.cqeHashLookups, 0, 'no hash lookup per CQE');
  assert.is(i.cqeSyscalls, 0, 'no syscall per CQE');
  assert.is(i.cqeStale, 0);
  assert.is(i.flushedLegacy, 0);
  // per SQE one lookup (the token's slot) + one per cancel target at the flush
  assert.is(i.sqeHashLookups, i.queued + 2);
  assert.is(i.live, 0);
  assert.is(i.userData, 0, 'every slot freed by its final CQE');
  assert.is(g.close(lfd), 0);
  assert.is(g.destroyRing(ring), 0);
  assert.is(g.slabDestroy(rslab), 0);
  assert.is(g.ownedFds(), 0);
});

// ---- the reactor core (legacy path: get-sqe + prep-* + sqe-set-data64) under the load generator

const root = fileURLToPath(new URL('../../', import.meta.url));
function loadgenBinary(): string {
  const bin = `${root}build/loadgen`;
  if (!existsSync(bin)) {
    mkdirSync(`${root}build`, { recursive: true });
    execFileSync('cc', ['-O2', '-o', bin, `${root}bench/loadgen.c`], { stdio: 'inherit' });
  }
  return bin;
}
function runLoadgen(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(loadgenBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const killer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.stdout.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('close', () => { clearTimeout(killer); resolve(out.trim().split('\n').pop() ?? ''); });
  });
}

test('reactor core echo (get-sqe path, listen() defaults) under the load generator: 0 hash lookups, 0 syscalls per CQE', async () => {
  const backend = createNativeBackend();
  const r = loadReactor(backend);
  const cfg = { ...resolveOptions({}).config, maxConnections: 1024, maxFd: 65536, sendRanges: 65536 };
  assert.is(cfg.ringFlags, DEFAULT_FLAGS);
  assert.is(r.create(cfg), 0);
  const slab = r.recvSlab();
  const port = r.listen('127.0.0.1', 0, 4, 1024);
  assert.ok(port > 0);
  r.submit();
  const held = new Map<number, number[]>();
  const turn = (): void => {
    const ev = r.tick();
    for (let i = 0; i < ev.length; i += 4) {
      const w0 = ev[i]!, conn = w0 >>> 8;
      switch (w0 & 0xff) {
        case 1: held.set(conn, []); break;
        case 2: if (r.write(conn, slab, ev[i + 2]!, ev[i + 3]!) < 0) r.release(ev[i + 1]!); else held.get(conn)!.push(ev[i + 1]!); break;
        case 4: for (const b of held.get(conn)!.splice(0, ev[i + 1]!)) r.release(b); break;
        case 3: r.close(conn, false); break;
        case 5: for (const b of held.get(conn) ?? []) r.release(b); held.delete(conn); break;
      }
    }
    r.submit();
    if (backend.host.cqReady(r.ring()) > 0) setImmediate(turn);
  };
  const stop = backend.watch(r.ring(), turn);
  const line = await runLoadgen(['-H', '127.0.0.1', '-p', String(port), '-c', '32', '-s', '64', '-d', '1', '-w', '0.2']);
  const res = JSON.parse(line) as Record<string, number>;
  assert.is(res.errors, 0, line);
  assert.ok(res.msgs > 0, line);
  const end = Date.now() + 5000;
  while (Date.now() < end && (r.stats().connectionsOpen !== 0 || held.size !== 0)) { turn(); await sleep(10); }
  assert.is(r.stats().connectionsOpen, 0);
  const i = backend.ringInfo(r.ring());
  console.log(`  core echo: ${line}`);
  console.log(`  counters: ${counters(i)}`);
  assert.ok(i.cqes > res.msgs, `CQEs seen ${i.cqes}`);
  assert.is(i.cqeHashLookups, 0, 'no hash lookup per CQE');
  assert.is(i.cqeSyscalls, 0, 'no syscall per CQE');
  assert.is(i.cqeStale, 0);
  assert.ok(i.queued + i.flushedLegacy > 0, 'SQEs recorded (queue-* or get-sqe, whichever the core uses)');
  stop();
  assert.is(r.destroy(), 0);
});

// ---- limits and rules

function withOpSlots<T>(n: number, f: () => T): T {
  process.env.ZERGLING_OP_SLOTS = String(n);
  try { return f(); } finally { delete process.env.ZERGLING_OP_SLOTS; }
}

test('op table full: queue-* is -ENOBUFS and queues nothing; a token in flight shares its slot; freed by the final CQE', () => {
  const g = a.newGuest();
  const ring = withOpSlots(4, () => g.createRing(16)); // 3 usable slots
  assert.ok(ring > 0);
  assert.is(info(g, ring).opSlots, 3);
  const fd = g.socket(2, 1, 0);
  assert.ok(fd >= 0);
  const before = (): [number, number] => [g.sqReady(ring), info(g, ring).live];
  for (let t = 1n; t <= 3n; t++) assert.is(g.queueCancel64(ring, 999n, 0, ...tokenHalves(t)), 0);
  let b = before();
  assert.is(g.queueCancel64(ring, 999n, 0, ...tokenHalves(4n)), -E.ENOBUFS, 'a fourth token');
  assert.is(g.queueRecvSelect(ring, fd, 0, 0, ...tokenHalves(4n)), -E.ENOBUFS);
  assert.equal(before(), b, 'nothing queued, no slot used');
  assert.is(g.queueCancel64(ring, 999n, 0, ...tokenHalves(2n)), 0, 'token 2 is in flight: same slot');
  assert.is(info(g, ring).userData, 3);
  assert.is(info(g, ring).live, 4);
  // a get-sqe SQE with a new token: the flush is refused, nothing published
  const s = g.getSqe(ring);
  assert.is(g.sqeSetData64(s, 5n), 0);
  b = before();
  assert.is(g.submit(ring), -E.ENOBUFS, 'the flush needs a slot too');
  assert.equal(before(), b);
  assert.is(g.sqeSetData64(s, 1n), 0, 're-tagged onto a token in flight');
  assert.is(g.submit(ring), 5);
  const cqes = reapNow(g, ring);
  assert.is(cqes.length, 5);
  for (const c of cqes) assert.ok(c.userData >= 1n && c.userData <= 3n, `token ${c.userData} handed back`);
  for (const c of cqes.filter((c) => c.userData !== 1n || c.res !== 0)) assert.is(c.res, -ENOENT);
  assert.is(info(g, ring).userData, 0, 'final CQEs freed every slot');
  assert.is(g.queueCancel64(ring, 999n, 0, ...tokenHalves(4n)), 0, 'room again');
  assert.is(g.submit(ring), 1);
  assert.is(reapNow(g, ring)[0]!.userData, 4n);
  assert.is(g.close(fd), 0);
  assert.is(g.destroyRing(ring), 0);
});

test('SQ full: queue-* is -EBUSY, checks come first, nothing queued', () => {
  const g = a.newGuest();
  const ring = g.createRing(4);
  const fd = g.socket(2, 1, 0);
  for (let i = 0; i < 4; i++) assert.is(g.queueRecvSelect(ring, fd, 0, 0, ...tokenHalves(7n)), 0);
  assert.is(g.sqReady(ring), 4);
  assert.is(g.queueRecvSelect(ring, fd, 0, 0, ...tokenHalves(8n)), -E.EBUSY);
  assert.is(g.queueRecvSelect(ring, 0, 0, 0, ...tokenHalves(8n)), -E.EBADF, 'fd check before the SQ');
  assert.is(g.queueRecvSelect(ring, fd, 0x10000, 0, ...tokenHalves(8n)), -E.EINVAL, 'bad group before the SQ');
  assert.is(g.queueSend(ring, fd, 12345, 0, 1, 0, ...tokenHalves(8n)), -E.EBADF, 'unknown slab');
  assert.is(g.queueSendmsg(ring, fd, new Array(65).fill({ slab: 1, offset: 0, len: 1 }), 0, ...tokenHalves(8n)), -E.EINVAL);
  assert.is(g.queueMultishotAccept(ring, fd, 0x40, ...tokenHalves(8n)), -E.EINVAL, 'accept flags');
  assert.is(g.queueCancel64(ring, 1n, 0x8, ...tokenHalves(8n)), -E.EINVAL, 'cancel flags beyond ALL|ANY');
  assert.is(g.queueCancel64(999, 1n, 0, ...tokenHalves(8n)), -E.EBADF, 'bad ring');
  assert.is(g.sqReady(ring), 4);
  assert.is(info(g, ring).live, 4);
  assert.is(info(g, ring).userData, 1, 'one token, one slot');
  // close turns the queued SQEs naming fd into NOPs and drops their records
  assert.is(g.close(fd), 0);
  assert.is(info(g, ring).live, 0);
  assert.is(info(g, ring).userData, 0);
  assert.is(g.submit(ring), 4);
  assert.equal(reapNow(g, ring), [], 'NOPs post nothing');
  assert.is(g.destroyRing(ring), 0);
});

test('one class per token: queue-* of the other class is -EINVAL; a get-sqe flush mixing is refused as before', () => {
  const g = a.newGuest();
  const ring = g.createRing(8);
  const [lfd] = listen4(g);
  assert.is(g.queueMultishotAccept(ring, lfd, 0, ...tokenHalves(50n)), 0);
  assert.is(g.queueCancel64(ring, 1n, 0, ...tokenHalves(50n)), -E.EINVAL, 'accept token for a cancel');
  assert.is(g.queueRecvSelect(ring, lfd, 0, 0, ...tokenHalves(50n)), -E.EINVAL);
  assert.is(g.sqReady(ring), 1);
  const s = g.getSqe(ring);
  assert.is(g.prepCancel64(s, 1n, 0), 0);
  assert.is(g.sqeSetData64(s, 50n), 0);
  assert.is(g.submit(ring), -E.EINVAL, 'mixed flush refused');
  assert.is(g.sqReady(ring), 2);
  assert.is(g.sqeSetData64(s, 51n), 0, 'the get-sqe SQE can be re-tagged');
  assert.is(g.submit(ring), 2);
  assert.is(g.destroyRing(ring), 0);
  assert.is(g.close(lfd), 0);
});

test('a queue-* SQE is out of reach of SQE handles; a guessed kernel user_data is just a token', async () => {
  const g = a.newGuest();
  const ring = g.createRing(8);
  const [lfd, port] = listen4(g);
  const owned0 = g.ownedFds();
  const h0 = g.getSqe(ring); // position 0, a NOP
  assert.is(g.queueMultishotAccept(ring, lfd, 0, ...tokenHalves(60n)), 0); // position 1: slot 1, generation 1
  const forged = h0 + (1 << 6); // the handle position 1 would have had
  assert.is(g.sqeSetData64(forged, 1n), -E.EBADF);
  assert.is(g.prepCancel64(forged, 1n, 0), -E.EBADF);
  assert.is(g.prepRecvSelect(forged, lfd, 0, 0), -E.EBADF);
  // The NOP carries what the accept's kernel user_data is (gen 1 << 32 | slot 1):
  // its CQE (res 0, stdin's number) must come back as the NOP's token, not an fd.
  const kudGuess = (1n << 32n) | 1n;
  assert.is(g.sqeSetData64(h0, kudGuess), 0);
  assert.is(g.submit(ring), 2);
  const c = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((r) => c.on('connect', () => r()));
  const got = await reapUntil(g, ring, (all) => all.length >= 2);
  const nop = got.find((x) => x.userData === kudGuess)!;
  const acc = got.find((x) => x.userData === 60n)!;
  assert.is(nop.res, 0);
  assert.ok(acc.res > 2, `accepted fd ${acc.res}`);
  assert.is(g.ownedFds(), owned0 + 1, 'only the accepted fd became the guest\'s');
  assert.is(g.getsockname(0).ret, -E.EBADF, 'fd 0 is not the guest\'s');
  c.destroy();
  assert.is(g.close(acc.res), 0);
  assert.is(g.destroyRing(ring), 0);
  assert.is(g.close(lfd), 0);
});

test('cancel by token: the slot holds every op queued with it (CANCEL_ALL reaches both); get-sqe cancels translate too', async () => {
  const g = a.newGuest();
  const ring = g.createRing(16);
  const [lfd, port] = listen4(g);
  assert.is(submitOne(g, ring, 70n, (s) => g.prepMultishotAccept(s, lfd, SOCK_NONBLOCK)), 1);
  const c1 = net.connect({ port, host: '127.0.0.1' });
  const c2 = net.connect({ port, host: '127.0.0.1' });
  const acc = await reapUntil(g, ring, (all) => all.length >= 2);
  const [f1, f2] = acc.map((x) => x.res);
  const slab = g.slabCreate(4096);
  const br = g.setupBufRing(ring, 2, 9, 0);
  assert.is(g.bufRingAdd(br, slab, 0, 2048, 0, 1, 0), 0);
  assert.is(g.bufRingAdd(br, slab, 2048, 2048, 1, 1, 1), 0);
  assert.is(g.bufRingAdvance(br, 2), 0);
  // two recvs, one token (fused), one get-sqe recv with another token
  assert.is(g.queueRecvMultishotSelect(ring, f1!, 9, 0, ...tokenHalves(80n)), 0);
  assert.is(g.queueRecvMultishotSelect(ring, f2!, 9, 0, ...tokenHalves(80n)), 0);
  assert.is(submitOne(g, ring, 81n, (s) => g.prepRecvSelect(s, f1!, 9, 0)), 3);
  assert.is(info(g, ring).userData, 3, 'tokens 70, 80, 81');
  await sleep(5);
  assert.equal(reapNow(g, ring), []);
  assert.is(g.queueCancel64(ring, 80n, ASYNC_CANCEL_ALL, ...tokenHalves(90n)), 0);
  assert.is(submitOne(g, ring, 91n, (s) => g.prepCancel64(s, 81n, 0)), 2);
  const got = await reapUntil(g, ring, (all) => all.length >= 5);
  const res = (ud: bigint): number[] => got.filter((x) => x.userData === ud).map((x) => x.res);
  assert.equal(res(90n), [2], 'CANCEL_ALL reached both ops of token 80');
  assert.equal(res(80n), [-ECANCELED, -ECANCELED]);
  assert.equal(res(91n), [0]);
  assert.equal(res(81n), [-ECANCELED]);
  // the accept's token, cancelled by the get-sqe path; then a token no longer in flight: -ENOENT
  assert.is(submitOne(g, ring, 92n, (s) => g.prepCancel64(s, 70n, 0)), 1);
  const end = await reapUntil(g, ring, (all) => all.length >= 2);
  assert.equal(end.filter((x) => x.userData === 92n).map((x) => x.res), [0]);
  assert.is(submitOne(g, ring, 93n, (s) => g.prepCancel64(s, 70n, 0)), 1);
  assert.equal((await reapUntil(g, ring, (all) => all.length >= 1)).map((x) => [x.userData, x.res]), [[93n, -ENOENT]]);
  assert.is(info(g, ring).live, 0);
  assert.is(info(g, ring).cqeHashLookups, 0);
  c1.destroy();
  c2.destroy();
  for (const f of [f1!, f2!, lfd]) assert.is(g.close(f), 0);
  assert.is(g.destroyRing(ring), 0);
  assert.is(g.slabDestroy(slab), 0);
});

test('teardown with queue-* SQEs never flushed drops their records', () => {
  const g = a.newGuest();
  const ring = g.createRing(8);
  for (let t = 0n; t < 5n; t++) assert.is(g.queueCancel64(ring, 1n, 0, ...tokenHalves(t)), 0);
  assert.is(info(g, ring).live, 5);
  assert.is(g.destroyRing(ring), 0); // asserts every record is gone (zl_ring_teardown)
  void parseCqes;
});

test('no fd leaked by this file', () => {
  assert.is(fdCount(), fds0);
});

test.run();
