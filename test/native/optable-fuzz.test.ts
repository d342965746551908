// Random interleavings of queue-* and get-sqe + prep-* + set-data64 on one
// ring with a tiny SQ and a tiny op table, tokens shared across classes
// (accept / not), closes between queueing and the flush, cancels by token
// (plain, ALL, ANY), CQEs read or consumed unread, rings destroyed with
// records in flight; plain, DEFER_TASKRUN and (rarely) SQPOLL rings. The probe fuzzer (test/bridge/fuzz) does not call the
// queue-* imports yet; this does, from JS. Every result must be one the
// contract allows; every CQE carries a token the fuzzer used; every fd the
// guest owns at the end is one it knows (a socket it made, or a connection
// accepted on its listener); no descriptor leaks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as net from 'node:net';
import { tokenHalves } from '../../bridge/backend.ts';
import {
  AF_INET, E, SETUP, SOCK_NONBLOCK, SOCK_STREAM, addon, fdCount, listen4, parseCqes, sleep,
} from './helpers.ts';

const a = addon();
const fds0 = fdCount();
const STEPS = Number(process.env.OPTABLE_FUZZ_STEPS ?? 20000);

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

async function run(seed: number, opSlots: number | undefined): Promise<Record<string, number>> {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const g = a.newGuest();
  const [lfd, port] = listen4(g);
  const clients: net.Socket[] = [];
  for (let i = 0; i < 24; i++) {
    const c = net.connect({ port, host: '127.0.0.1' });
    c.on('error', () => undefined);
    clients.push(c);
  }
  await sleep(30); // in the listen backlog
  const slab = g.slabCreate(8192);
  const TOKENS = [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 1n << 56n, (1n << 32n) | 1n, 0n, 0xffffffffffffffffn];
  const made = new Set<number>(); // sockets the fuzzer made
  const accepted = new Set<number>();
  const stats: Record<string, number> = { queued: 0, refusedFlush: 0, cqes: 0, accepted: 0, rings: 0 };
  let ring = -1;
  let br = -1;
  let legacy: number[] = []; // get-sqe handles prepared since the last flush
  const newRing = (): void => {
    if (opSlots !== undefined) process.env.ZERGLING_OP_SLOTS = String(opSlots);
    const x = rand();
    const flags = x < 0.05 ? SETUP.SQPOLL : x < 0.55 ? SETUP.SINGLE_ISSUER | SETUP.DEFER_TASKRUN : 0;
    ring = g.createRingEx(pick([4, 8]), flags, -1, 10);
    delete process.env.ZERGLING_OP_SLOTS;
    assert.ok(ring > 0, `createRing ${ring}`);
    br = g.setupBufRing(ring, 4, 5, 0);
    for (let i = 0; i < 4; i++) g.bufRingAdd(br, slab, i * 2048, 2048, i, 3, i);
    g.bufRingAdvance(br, 4);
    legacy = [];
    stats.rings!++;
  };
  newRing();
  const fds = (): number[] => [lfd, ...made, ...accepted];
  const expect = (what: string, rc: number, ok: readonly number[]): void => {
    if (rc >= 0 && ok.includes(0)) return;
    assert.ok(ok.includes(rc), `seed ${seed}: ${what} = ${rc}, allowed ${ok.join(' ')}`);
  };
  const QUEUE_OK = [0, -E.EINVAL, -E.EBUSY, -E.ENOBUFS, -E.EBADF];
  const readCqes = (unread: boolean): void => {
    const rc = g.enter(ring, 0, 0, 1, undefined); // GETEVENTS: flushes the SQ too
    expect('enter', rc, [0, -E.EINVAL, -E.ENOBUFS]);
    if (rc >= 0) legacy = [];
    if (unread) {
      const n = g.cqReady(ring);
      expect('cqAdvance', g.cqAdvance(ring, n), [0]);
      return;
    }
    const cqes = parseCqes(g.peekBatchCqe(ring, 64));
    for (const c of cqes) {
      stats.cqes!++;
      assert.ok(TOKENS.includes(c.userData), `seed ${seed}: CQE token ${c.userData} never used`);
      // An fd is the guest's only as an accept result: a connection on our listener.
      if (c.res > 2 && c.res !== lfd && !made.has(c.res) && !accepted.has(c.res) && g.getsockname(c.res).ret === 0) {
        assert.is(g.getsockname(c.res).port, port, `seed ${seed}: fd ${c.res} owned but not accepted on the listener`);
        accepted.add(c.res);
        stats.accepted!++;
      }
    }
    expect('cqAdvance', g.cqAdvance(ring, cqes.length), [0]);
  };
  for (let step = 0; step < STEPS; step++) {
    const tok = pick(TOKENS);
    const fd = rand() < 0.1 ? 12345 : pick(fds());
    switch (Math.floor(rand() * 14)) {
      case 0: expect('queueMultishotAccept', g.queueMultishotAccept(ring, rand() < 0.8 ? lfd : fd, SOCK_NONBLOCK, ...tokenHalves(tok)), QUEUE_OK); stats.queued!++; break;
      case 1: expect('queueRecvMultishotSelect', g.queueRecvMultishotSelect(ring, fd, 5, 0, ...tokenHalves(tok)), QUEUE_OK); stats.queued!++; break;
      case 2: expect('queueRecvSelect', g.queueRecvSelect(ring, fd, 5, 0, ...tokenHalves(tok)), QUEUE_OK); stats.queued!++; break;
      case 3: expect('queueSend', g.queueSend(ring, fd, slab, 0, 16, 0, ...tokenHalves(tok)), [...QUEUE_OK, -E.EFAULT]); stats.queued!++; break;
      case 4: expect('queueSendmsg', g.queueSendmsg(ring, fd, [{ slab, offset: 16, len: 8 }, { slab, offset: 0, len: 4 }], 0, ...tokenHalves(tok)), QUEUE_OK); stats.queued!++; break;
      case 5: expect('queueCancel64', g.queueCancel64(ring, pick(TOKENS), pick([0, 1, 4]), ...tokenHalves(tok)), QUEUE_OK); stats.queued!++; break;
      case 6: case 7: { // get-sqe + prep + set-data64
        const s = g.getSqe(ring);
        if (s < 0) { expect('getSqe', s, [-E.EBUSY]); break; }
        const k = Math.floor(rand() * 4);
        const rc = k === 0 ? g.prepMultishotAccept(s, lfd, 0) : k === 1 ? g.prepRecvMultishotSelect(s, fd, 5, 0)
          : k === 2 ? g.prepSend(s, fd, slab, 0, 8, 0) : g.prepCancel64(s, pick(TOKENS), pick([0, 1, 4]));
        expect('prep', rc, [0, -E.EBADF]);
        expect('sqeSetData64', g.sqeSetData64(s, tok), [0]);
        legacy.push(s);
        break;
      }
      case 8: case 9: {
        const rc = rand() < 0.5 ? g.submit(ring) : g.enter(ring, 0, 0, 0, undefined);
        expect('flush', rc, [0, -E.EINVAL, -E.ENOBUFS]);
        if (rc === -E.EINVAL || rc === -E.ENOBUFS) {
          stats.refusedFlush!++;
          // re-tag what the flush refused, or start over on a new ring
          if (rand() < 0.5) for (const s of legacy) expect('re-tag', g.sqeSetData64(s, 7n), [0]);
          else { expect('destroyRing', g.destroyRing(ring), [0]); newRing(); }
        } else {
          legacy = [];
        }
        break;
      }
      case 10: readCqes(false); break;
      case 11: readCqes(rand() < 0.3); break;
      case 12: { // close between queueing and the flush (or a fresh socket)
        if (rand() < 0.5 && made.size > 0) {
          const f = pick([...made]);
          const rc = g.close(f);
          expect('close', rc, [0, -E.EBUSY]);
          if (rc === 0) made.delete(f);
        } else if (made.size < 4) {
          const f = g.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
          assert.ok(f >= 0);
          made.add(f);
        }
        break;
      }
      case 13:
        if (rand() < 0.05) { expect('destroyRing', g.destroyRing(ring), [0]); newRing(); }
        break;
    }
  }
  expect('destroyRing', g.destroyRing(ring), [0]);
  const listenerOwned = g.getsockname(lfd).ret === 0;
  for (const f of [...made, ...accepted]) expect('close', g.close(f), [0]);
  assert.is(g.ownedFds(), 1, `seed ${seed}: only the listener is left (owned ${g.ownedFds()}, listener ${listenerOwned}, made ${[...made]}, accepted ${[...accepted]})`);
  assert.is(g.close(lfd), 0);
  assert.is(g.slabDestroy(slab), 0);
  for (const c of clients) c.destroy();
  return stats;
}

test(`${STEPS} random steps, queue-* and get-sqe mixed, default and 8-slot op tables: only allowed results, no stray fd`, async () => {
  const base = Number(process.env.OPTABLE_FUZZ_SEED ?? (Date.now() % 1_000_000));
  for (const [i, slots] of [[0, undefined], [1, 8], [2, 3]] as const) {
    const stats = await run(base + i, slots);
    console.log(`  seed ${base + i} op slots ${slots ?? 'default'}: ${JSON.stringify(stats)}`);
    assert.ok(stats.cqes! > 0 && stats.queued! > 0);
  }
  await sleep(50);
  assert.is(fdCount(), fds0, 'no descriptor leaked');
});

test.run();
