// `make soak` (not in CI): SOAK_MINUTES (default 10) of 1,000 connections
// mixing echo, non-readers, resets and churn against the README's echo server.
// Prints RSS and buffer counts each minute. Passes when RSS stays within
// ±10 % of its value at the end of the first minute, and every buffer is back
// once the load has stopped.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { listen } from '../../src/index.ts';

const minutes = Number(process.env.SOAK_MINUTES ?? 10);
const CONNS = Number(process.env.SOAK_CONNS ?? 1000);
const MiB = 1 << 20;

async function main(): Promise<void> {
  const server = await listen({
    port: 0,
    reactor: { maxConnections: 4096 },
    async onConnection(conn) { for await (const b of conn) if (!conn.write(b)) await conn.flush(); },
  });
  const cfg = { port: server.address().port, conns: CONNS, ms: minutes * 60_000 };
  const child = spawn(process.execPath, [fileURLToPath(new URL('./soak-clients.cjs', import.meta.url)), JSON.stringify(cfg)],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const samples: number[] = [];
  const line = (label: string): void => {
    const s = server.stats();
    const rss = process.memoryUsage().rss;
    console.log(`${label}: rss ${(rss / MiB).toFixed(1)} MiB, conns ${s.connections}, buffers kernel ${s.buffers.kernel} ` +
      `app ${s.buffers.app} returning ${s.buffers.returning}, paused ${s.budget.paused}, accepted ${s.accepted}, ` +
      `rejected ${s.rejected}, enobufs ${s.enobufs}`);
    samples.push(rss);
  };
  for (let m = 1; m <= minutes; m++) {
    await new Promise((r) => setTimeout(r, 60_000));
    line(`minute ${m}`);
  }
  await exited;
  console.log(`clients: ${out.trim()}`);
  const deadline = Date.now() + 10_000;
  while (server.stats().connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  line('after the load');
  const s = server.stats();
  const base = samples[0]!;
  const drift = samples.slice(1, minutes).map((x) => (x - base) / base);
  const flat = drift.every((d) => Math.abs(d) <= 0.1);
  const back = s.connections === 0 && s.buffers.app === 0 && s.buffers.kernel + s.buffers.returning === s.buffers.total;
  await server.close({ deadlineMs: 1000 });
  console.log(`RSS drift after minute 1: ${drift.map((d) => `${(d * 100).toFixed(1)}%`).join(' ')}; ` +
    `${flat ? 'flat' : 'NOT flat'}; buffers ${back ? 'all back' : 'NOT all back'}`);
  process.exit(flat && back ? 0 : 1);
}
void main();
