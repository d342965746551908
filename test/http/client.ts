// A conformance client for both backends: sends a case's bytes (in one write,
// in steps, split in two, or a byte per write) and parses what comes back into
// responses (status, body) plus whether the server closed.
import net from 'node:net';
import { createSimBackend, type SimBackend } from '../../bridge/sim/index.ts';
import type { Case, Step } from './cases.ts';

export interface Observed {
  statuses: number[];
  bodies: string[];
  closed: boolean;
  error?: string;
}

/** Splits raw response bytes into responses; HEAD responses (by index) and 1xx have no body. */
export function parseResponses(raw: Buffer, headAt: readonly number[] = []): { statuses: number[]; bodies: string[]; complete: boolean } {
  const statuses: number[] = [];
  const bodies: string[] = [];
  let p = 0;
  for (;;) {
    const e = raw.indexOf('\r\n\r\n', p, 'latin1');
    if (e < 0) return { statuses, bodies, complete: p === raw.length };
    const head = raw.toString('latin1', p, e);
    const m = /^HTTP\/1\.1 (\d{3}) /.exec(head);
    if (m === null) return { statuses, bodies, complete: false };
    const status = Number(m[1]);
    const idx = statuses.length;
    let q = e + 4;
    let body = '';
    const isFinal = status >= 200;
    const noBody = !isFinal || status === 204 || status === 304 || headAt.includes(bodies.length);
    if (!noBody) {
      const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (cl !== null) {
        const n = Number(cl[1]);
        if (raw.length < q + n) return { statuses, bodies, complete: false };
        body = raw.toString('latin1', q, q + n);
        q += n;
      } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
        for (;;) {
          const le = raw.indexOf('\r\n', q, 'latin1');
          if (le < 0) return { statuses, bodies, complete: false };
          const n = parseInt(raw.toString('latin1', q, le), 16);
          if (raw.length < le + 2 + n + 2) return { statuses, bodies, complete: false };
          body += raw.toString('latin1', le + 2, le + 2 + n);
          q = le + 2 + n + 2;
          if (n === 0) break;
        }
      }
    }
    statuses.push(status);
    if (isFinal) bodies.push(body);
    void idx;
    p = q;
  }
}

function steps(c: Case): Step[][] {
  const text = typeof c.send === 'string' ? c.send : undefined;
  if (text !== undefined && c.splitEveryByte) {
    const out: Step[][] = [];
    for (let k = 1; k < text.length; k++) out.push([{ write: text.slice(0, k) }, { pause: 2 }, { write: text.slice(k) }]);
    return out;
  }
  if (text !== undefined && c.byteByByte) return [[...text].flatMap((ch) => [{ write: ch }, { pause: 1 }])];
  if (text !== undefined) return [[{ write: text }]];
  return [c.send as Step[]];
}

const done = (c: Case, raw: Buffer, eof: boolean): boolean => {
  const r = parseResponses(raw, c.headAt);
  return r.statuses.length >= c.statuses.length && (!c.close || eof);
};

/** Runs one connection of `c` against a native server on 127.0.0.1:port. */
async function nativeConn(c: Case, port: number, plan: Step[]): Promise<Observed> {
  const s = net.connect({ port, host: '127.0.0.1', noDelay: true, allowHalfOpen: true });
  let raw = Buffer.alloc(0);
  let eof = false;
  let error: string | undefined;
  s.on('data', (d: Buffer) => { raw = Buffer.concat([raw, d]); });
  s.on('end', () => { eof = true; });
  s.on('error', (e: NodeJS.ErrnoException) => { error = e.code ?? e.message; eof = true; });
  await new Promise<void>((r) => s.once('connect', () => r()));
  const until = async (cond: () => boolean, ms: number): Promise<void> => {
    const end = Date.now() + ms;
    while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
  };
  for (const st of plan) {
    if ('write' in st) { if (!eof) s.write(Buffer.from(st.write, 'latin1')); } else if ('pause' in st) await new Promise((r) => setTimeout(r, st.pause));
    else await until(() => raw.includes(st.waitFor), 2000);
  }
  await until(() => done(c, raw, eof), 3000);
  // A keep-alive case must stay open: look a little longer for an unwanted close.
  if (!c.close) await until(() => eof, 30);
  s.destroy();
  const r = parseResponses(raw, c.headAt);
  return { statuses: r.statuses, bodies: r.bodies, closed: eof, ...(error !== undefined ? { error } : {}) };
}

export async function runNative(c: Case, port: number): Promise<Observed[]> {
  const out: Observed[] = [];
  for (const plan of steps(c)) out.push(await nativeConn(c, port, plan));
  return out;
}

/** Runs `c` against a server on the simulator `sim` (virtual time, seeded). */
export async function runSim(c: Case, sim: SimBackend, port: number): Promise<Observed[]> {
  const out: Observed[] = [];
  const wait = async (ms: number): Promise<void> => {
    let t = false;
    sim.setTimer!(ms, () => { t = true; });
    await sim.runUntil(() => t, { maxVirtualMs: 60_000 });
  };
  for (const plan of steps(c)) {
    const cl = sim.client();
    let raw = Buffer.alloc(0);
    cl.onData = (b) => { raw = Buffer.concat([raw, Buffer.from(b)]); };
    cl.connect(port);
    for (const st of plan) {
      if ('write' in st) { if (!cl.done) cl.write(Buffer.from(st.write, 'latin1')); } else if ('pause' in st) await wait(st.pause);
      else await sim.runUntil(() => raw.includes(st.waitFor) || cl.done, { maxVirtualMs: 60_000 });
    }
    await sim.runUntil(() => done(c, raw, cl.done) || cl.done, { maxVirtualMs: 60_000 }).catch(() => {});
    if (!c.close) await wait(30);
    const r = parseResponses(raw, c.headAt);
    out.push({ statuses: r.statuses, bodies: r.bodies, closed: cl.done, ...(cl.error !== 0 ? { error: `errno ${cl.error}` } : {}) });
    if (!cl.done) cl.close();
    await wait(5);
  }
  return out;
}

export function newSim(seed: number): SimBackend {
  return createSimBackend({ seed });
}
