// Conformance harness: the same scenario runs against the simulator and
// against real io_uring (the native backend, TCP clients on 127.0.0.1), and
// what the clients observe (bytes, EOF, errors) is compared.
import * as net from 'node:net';
import { loadReactor } from '../../bridge/index.ts';
import type { Backend, Reactor, ReactorConfig, ReactorStats } from '../../bridge/backend.ts';
import { createSimBackend } from '../../bridge/sim/index.ts';
import type { SimBackend, SimClient } from '../../bridge/sim/index.ts';

import { EV_CLOSED, EV_DATA, EV_EOF, EV_OPEN, EV_SENT } from '../../bridge/consts.ts';
export { EV_CLOSED, EV_DATA, EV_EOF, EV_OPEN, EV_SENT };

export interface ConfClient {
  connect(port: number): void;
  write(b: Uint8Array): void;
  /** Half-close (FIN after the queued bytes). */
  end(): void;
  /** Abortive close (RST). */
  reset(): void;
  readonly bytes: number;
  /** Everything received, concatenated. */
  received(): Uint8Array;
  readonly eof: boolean;
  readonly error: string | undefined;
}

export interface Env {
  readonly kind: 'sim' | 'native';
  readonly backend: Backend;
  client(): ConfClient;
  /** Lets the system run until `done()` (virtual time on the sim, real time, bounded, on Linux). */
  settle(done: () => boolean, what: string): Promise<void>;
  /** Lets in-flight work finish (sim: until the world is idle; Linux: a short real pause). */
  drain(): Promise<void>;
}

const ERRNAMES: Record<number, string> = { 104: 'ECONNRESET', 111: 'ECONNREFUSED', 110: 'ETIMEDOUT', 32: 'EPIPE' };

class Chunks {
  private parts: Uint8Array[] = [];
  bytes = 0;
  push(b: Uint8Array): void {
    this.parts.push(b);
    this.bytes += b.length;
  }
  all(): Uint8Array {
    const out = new Uint8Array(this.bytes);
    let k = 0;
    for (const p of this.parts) {
      out.set(p, k);
      k += p.length;
    }
    return out;
  }
}

class SimConfClient implements ConfClient {
  private readonly c: SimClient;
  private readonly got = new Chunks();
  constructor(sim: SimBackend) {
    this.c = sim.client();
    this.c.onData = (b) => this.got.push(b);
  }
  connect(port: number): void {
    this.c.connect(port);
  }
  write(b: Uint8Array): void {
    this.c.write(b);
  }
  end(): void {
    this.c.shutdownWrite();
  }
  reset(): void {
    this.c.reset();
  }
  get bytes(): number {
    return this.got.bytes;
  }
  received(): Uint8Array {
    return this.got.all();
  }
  get eof(): boolean {
    return this.c.eof;
  }
  get error(): string | undefined {
    return this.c.error === 0 ? undefined : (ERRNAMES[this.c.error] ?? `E${this.c.error}`);
  }
}

class NetConfClient implements ConfClient {
  private s: net.Socket | undefined;
  private readonly got = new Chunks();
  private pending: Uint8Array[] = [];
  private wantEnd = false;
  eof = false;
  error: string | undefined;
  connect(port: number): void {
    const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    this.s = s;
    s.on('data', (b: Buffer) => this.got.push(new Uint8Array(b.buffer, b.byteOffset, b.length).slice()));
    s.on('end', () => (this.eof = true));
    s.on('error', (e: NodeJS.ErrnoException) => (this.error ??= e.code ?? 'EIO'));
    s.on('connect', () => {
      for (const b of this.pending) s.write(b);
      this.pending = [];
      if (this.wantEnd) s.end();
    });
  }
  write(b: Uint8Array): void {
    if (this.s === undefined || this.s.connecting) this.pending.push(b);
    else this.s.write(b);
  }
  end(): void {
    if (this.s === undefined || this.s.connecting) this.wantEnd = true;
    else this.s.end();
  }
  reset(): void {
    this.s?.resetAndDestroy();
  }
  get bytes(): number {
    return this.got.bytes;
  }
  received(): Uint8Array {
    return this.got.all();
  }
}

export function simEnv(seed = 1): Env {
  const sim = createSimBackend({ seed, faults: { latency: [5_000, 20_000], kernelDelay: [500, 3_000], wakeDelay: [2_000, 10_000] } });
  return {
    kind: 'sim',
    backend: sim,
    client: () => new SimConfClient(sim),
    async settle(done, what) {
      sim.world.run(20_000_000, done);
      if (!done()) throw new Error(`sim: ${what} did not happen (world ${sim.world.pending === 0 ? 'idle' : 'busy'})`);
    },
    async drain() {
      sim.world.run(20_000_000);
    },
  };
}

export async function nativeEnv(): Promise<Env> {
  const { createNativeBackend } = await import('../../bridge/native.ts');
  const backend = createNativeBackend();
  return {
    kind: 'native',
    backend,
    client: () => new NetConfClient(),
    async settle(done, what) {
      // wall-clock bound: this is the real kernel
      const limit = Date.now() + 15_000;
      while (!done()) {
        if (Date.now() > limit) throw new Error(`native: ${what} did not happen within 15 s`);
        await new Promise((r) => setTimeout(r, 1));
      }
    },
    async drain() {
      await new Promise((r) => setTimeout(r, 30));
    },
  };
}

export interface ServerOptions {
  releaseAfterSent?: boolean;
  /** Called for every data event before it is echoed; return 'abort' to abort the conn instead. */
  onData?: (slot: number, n: number) => 'echo' | 'abort';
}

/** A minimal echo server over the reactor API that works on either backend. */
export class EchoServer {
  readonly closed = new Map<number, number>();
  readonly opened: number[] = [];
  private held = new Map<number, number[]>();
  private stop: (() => void) | undefined;
  private readonly slab: number;
  readonly reactor: Reactor;
  readonly port: number;
  error: string | undefined;

  constructor(readonly env: Env, cfg: ReactorConfig, readonly opts: ServerOptions = {}) {
    this.reactor = loadReactor(env.backend);
    const r = this.reactor.create(cfg);
    if (r < 0) throw new Error(`create = ${r}`);
    this.port = this.reactor.listen('127.0.0.1', 0, 4, 128);
    if (this.port <= 0) throw new Error(`listen = ${this.port}`);
    this.slab = this.reactor.recvSlab();
    const ring = this.reactor.ring();
    this.stop = env.backend.watch(ring, () => {
      try {
        for (let i = 0; i < 256; i++) {
          const ev = this.reactor.tick();
          this.handle(ev);
          this.reactor.submit();
          if (ev.length === 0 && env.backend.host.cqReady(ring) <= 0) break;
        }
      } catch (e) {
        this.error = (e as Error).message;
      }
    });
    this.reactor.submit();
  }

  private handle(ev: Uint32Array | number[]): void {
    for (let j = 0; j + 3 < ev.length; j += 4) {
      const kind = ev[j]! & 0xff, slot = ev[j]! >>> 8;
      const w1 = ev[j + 1]!, w2 = ev[j + 2]!, w3 = ev[j + 3]!;
      if (kind === EV_OPEN) {
        this.opened.push(slot);
        this.held.set(slot, []);
      } else if (kind === EV_DATA) {
        const what = this.opts.onData?.(slot, w3) ?? 'echo';
        if (what === 'abort') {
          this.reactor.release(w1);
          this.reactor.close(slot, true);
          continue;
        }
        const w = this.reactor.write(slot, this.slab, w2, w3);
        if (w >= 0 && this.opts.releaseAfterSent) this.held.get(slot)?.push(w1);
        else this.reactor.release(w1);
      } else if (kind === EV_EOF) {
        this.reactor.close(slot, false);
      } else if (kind === EV_SENT) {
        for (const bid of this.held.get(slot)?.splice(0, w1) ?? []) this.reactor.release(bid);
      } else if (kind === EV_CLOSED) {
        for (const bid of this.held.get(slot) ?? []) this.reactor.release(bid);
        this.held.delete(slot);
        this.closed.set(this.closed.size, w1);
      }
    }
  }

  stats(): ReactorStats {
    return this.reactor.stats();
  }

  /** Stops accepting, destroys the reactor; returns the fds the guest still owns (should be 0). */
  async shutdown(): Promise<number> {
    this.reactor.stopAccepting();
    this.reactor.submit();
    await this.env.drain();
    this.stop?.();
    this.reactor.destroy();
    return this.env.backend.ownedFds();
  }
}

export function baseConfig(over: Partial<ReactorConfig> = {}): ReactorConfig {
  return {
    ringEntries: 64,
    ringFlags: 0x1000 | 0x2000,
    sqThreadCpu: -1,
    sqThreadIdleMs: 0,
    recvBufferSize: 4096,
    bufferRingEntries: 64,
    cqeBatch: 64,
    maxConnections: 256,
    incremental: false,
    bufGroup: 1,
    recvBudget: 0, recvReserve: 0, idleTimeoutMs: 0, endTimeoutMs: 0, maxFd: 65536, sendRanges: 65536,
    ...over,
  };
}

/** Deterministic payloads (xorshift), distinct per client. */
export function payload(n: number, tag: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = (tag * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
