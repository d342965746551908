// The reactor core on real io_uring: a minimal echo driver (watch -> tick ->
// write each data range back -> release after `sent` -> submit) serving the
// bench load generator over loopback. Every echoed byte is verified by the
// load generator (`errors: 0`); afterwards every buffer is back with the
// kernel, no connection is open and the guest owns no fd beyond its baseline.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadReactor } from '../../bridge/index.ts';
import type { Backend, Reactor, ReactorConfig } from '../../bridge/backend.ts';
import { EV_CLOSED, EV_DATA, EV_EOF, EV_ERROR, EV_OPEN, EV_SENT } from '../../bridge/consts.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const LOADGEN = `${root}build/loadgen`;

function loadgenBinary(): string {
  if (!existsSync(LOADGEN)) {
    const local = `${root}bench/loadgen.c`;
    const src = existsSync(local) ? local : '/work/shared/bench/loadgen.c';
    mkdirSync(`${root}build`, { recursive: true });
    execFileSync('cc', ['-O2', '-o', LOADGEN, src], { stdio: 'inherit' });
  }
  return LOADGEN;
}

async function nativeBackend(): Promise<Backend> {
  const mod = (await import('../../bridge/native.ts')) as { createNativeBackend: () => Backend | Promise<Backend> };
  return await mod.createNativeBackend();
}

/** The echo driver: what a minimal app on the low-level reactor API does. */
class Echo {
  readonly r: Reactor;
  readonly slab: number;
  readonly held = new Map<number, number[]>(); // conn -> bids written back, oldest first
  readonly errors: number[] = [];
  ticks = 0;
  opened = 0;
  closedEvents = 0;
  private stop: () => void;
  private scheduled = false;

  constructor(readonly backend: Backend, readonly cfg: ReactorConfig) {
    this.r = loadReactor(backend);
    const rc = this.r.create(cfg);
    if (rc !== 0) throw new Error(`create: ${rc}`);
    this.slab = this.r.recvSlab();
    this.stop = backend.watch(this.r.ring(), () => this.turn());
  }

  listen(): number {
    const port = this.r.listen('127.0.0.1', 0, 4, 1024);
    if (port <= 0) throw new Error(`listen: ${port}`);
    this.r.submit();
    return port;
  }

  turn(): void {
    this.scheduled = false;
    const ev = this.r.tick();
    this.ticks++;
    for (let i = 0; i < ev.length; i += 4) {
      const w0 = ev[i]!, conn = w0 >>> 8;
      switch (w0 & 0xff) {
        case EV_OPEN:
          this.opened++;
          this.held.set(conn, []);
          break;
        case EV_DATA: {
          const bid = ev[i + 1]!, off = ev[i + 2]!, len = ev[i + 3]!;
          const rc = this.r.write(conn, this.slab, off, len);
          if (rc < 0) {
            this.r.release(bid);
          } else {
            this.held.get(conn)!.push(bid);
          }
          break;
        }
        case EV_SENT: {
          const q = this.held.get(conn)!;
          for (const bid of q.splice(0, ev[i + 1]!)) this.r.release(bid);
          break;
        }
        case EV_EOF:
          this.r.close(conn, false);
          break;
        case EV_CLOSED:
          this.closedEvents++;
          for (const bid of this.held.get(conn) ?? []) this.r.release(bid); // writes that never went out
          this.held.delete(conn);
          if (ev[i + 1]! !== 0 && ev[i + 1]! !== 104 && ev[i + 1]! !== 32) this.errors.push(ev[i + 1]!);
          break;
        case EV_ERROR:
          this.errors.push(ev[i + 1]!);
          break;
      }
    }
    this.r.submit();
    // more CQEs than one batch: continue after the event loop breathes
    if (this.backend.host.cqReady(this.r.ring()) > 0) this.kick();
  }

  kick(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.turn());
  }

  async settle(pred: () => boolean, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      this.kick();
      await new Promise((res) => setTimeout(res, 10));
      if (pred()) return true;
    }
    return pred();
  }

  close(): number {
    this.stop();
    return this.r.destroy();
  }
}

function runLoadgen(args: string[]): Promise<{ code: number; json: Record<string, number>; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(loadgenBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const killer = setTimeout(() => p.kill('SIGKILL'), 20_000); // bounded no matter what
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(killer);
      const line = out.trim().split('\n').pop() ?? '';
      let json: Record<string, number> = {};
      try { json = JSON.parse(line) as Record<string, number>; } catch { /* reported below */ }
      resolve({ code: code ?? -1, json, out: out + err });
    });
  });
}

const cfg: ReactorConfig = {
  ringEntries: 1024,
  ringFlags: 0x1000 | 0x2000, // SINGLE_ISSUER | DEFER_TASKRUN: the core falls back if refused
  sqThreadCpu: -1,
  sqThreadIdleMs: 0,
  recvBufferSize: 16384,
  bufferRingEntries: 512,
  cqeBatch: 256,
  maxConnections: 0,
  incremental: false,
  bufGroup: 1,
  recvBudget: 0, recvReserve: 0, idleTimeoutMs: 0, endTimeoutMs: 0, maxFd: 65536, sendRanges: 65536,
};

async function serve(label: string, config: ReactorConfig, args: string[]) {
  const backend = await nativeBackend();
  const fds0 = backend.ownedFds();
  const echo = new Echo(backend, config);
  const port = echo.listen();
  const fdsListening = backend.ownedFds();
  assert.is(fdsListening, fds0 + 1, 'the listener is the only fd');
  const res = await runLoadgen(['-H', '127.0.0.1', '-p', String(port), ...args]);
  console.log(`  ${label}: ${res.out.trim().split('\n').pop()}`);
  assert.is(res.json.errors, 0, `errors: ${res.out}`);
  assert.ok((res.json.msgs ?? 0) > 0, 'messages were echoed');
  assert.is(res.code, 0);
  // the clients are gone: every connection closes, every buffer comes home
  const drained = await echo.settle(() => {
    const s = echo.r.stats();
    return s.connectionsOpen === 0 && s.buffersApp === 0 && s.buffersKernel === Math.min(s.buffersWarm, config.bufferRingEntries - s.recvReserve);
  }, 5000);
  echo.r.submit();
  const s = echo.r.stats();
  assert.ok(drained, `drained: ${JSON.stringify(s, (_, v) => (typeof v === 'bigint' ? Number(v) : v))}`);
  assert.is(s.buffersKernel + s.buffersReturning, config.bufferRingEntries, 'every buffer back');
  assert.is(s.buffersKernel, Math.min(s.buffersWarm, config.bufferRingEntries - s.recvReserve), 'the warm set with the kernel');
  assert.is(s.connectionsOpen, 0);
  assert.is(s.accepted, s.closed);
  assert.is(Number(s.accepted), echo.opened);
  assert.is(echo.closedEvents, echo.opened, 'one closed per open');
  assert.equal(echo.errors, []);
  assert.is(echo.held.size, 0);
  assert.is(backend.ownedFds(), fdsListening, 'only the listener left');
  // the load generator stops when its time is up, possibly mid-transfer: bytes
  // of a transfer it no longer reads are dropped with their connection
  assert.ok(s.bytesOut <= s.bytesIn, 'never more out than in');
  assert.ok(s.bytesOut > 0n);
  console.log(`  ${label}: conns ${s.accepted} bytes ${s.bytesIn} sends ${s.sends} short ${s.shortSends} enobufs ${s.enobufs} ticks ${s.ticks} flags 0x${s.ringFlags.toString(16)}`);
  // stop accepting, then tear down: nothing is left
  assert.is(echo.r.stopAccepting(), 0);
  await echo.settle(() => backend.ownedFds() === fds0, 2000);
  assert.is(backend.ownedFds(), fds0, 'listener closed once its accept ended');
  assert.is(echo.close(), 0);
  assert.is(backend.ownedFds(), fds0);
  return s;
}

test('echo: 64 connections, 64-byte messages, every byte verified', async () => {
  await serve('c64', cfg, ['-c', '64', '-s', '64', '-d', '2', '-w', '0.3']);
});

test('echo: 256 connections, 64-byte messages', async () => {
  await serve('c256', cfg, ['-c', '256', '-s', '64', '-d', '2', '-w', '0.3']);
});

test('echo: 64 MiB transfers (gathered sends, short sends, ENOBUFS)', async () => {
  const s = await serve('L64', cfg, ['-L', '64', '-d', '2', '-w', '0']);
  assert.ok(s.bytesIn >= 64n << 20n, 'at least one whole transfer');
});

test('echo: 64 connections with incremental buffer consumption (IOU_PBUF_RING_INC)', async () => {
  await serve('c64 inc', { ...cfg, incremental: true, bufferRingEntries: 64, recvBufferSize: 65536 }, ['-c', '64', '-s', '64', '-d', '2', '-w', '0.3']);
});

test.run();
