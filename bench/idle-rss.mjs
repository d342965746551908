// idle-rss.mjs - what an idle connection costs a server in resident memory.
//   node bench/idle-rss.mjs [N]                      # N idle connections (default 10000)
//   SERVERS="zergling_echo node_net" node bench/idle-rss.mjs 5000
//   ZL_ARGS="--foo" / NODE / BUN as in run.sh; IDLE_SETTLE_MS (1500) between samples
//   IDLE_SMAPS=1: also list the mappings (/proc/PID/smaps) whose Rss grew most
// For each echo server (the same commands as bench/run.sh): start it, wait for
// its port, take the baseline, open N connections from a separate client
// process (loopback, bounded count and time), wait until the server holds all
// of them (its fd count) and its RSS settles, sample again, and print
//   server  base KiB  after KiB  KiB/conn  VmHWM
// RSS is the server process's VmRSS (/proc/PID/status) and, from
// smaps_rollup, its anonymous and file-backed parts. The server and the client
// are started under `ulimit -n` high enough for N (bash is required).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const CLIENT = process.argv[2] === '--client';
const N = Number((CLIENT ? process.argv[4] : process.argv[2]) ?? process.env.IDLE_CONNS ?? 10000);
if (!(N >= 1 && N <= 60000)) throw new Error(`connection count ${N} out of 1..60000`);
const SETTLE_MS = Number(process.env.IDLE_SETTLE_MS ?? 1500);
const NODE = process.env.NODE ?? process.execPath;
const BUN = process.env.BUN ?? join(ROOT, 'node_modules/.bin/bun');
const NOFILE = N + 1024;
const ZL_ARGS = (process.env.ZL_ARGS ?? '').split(/\s+/).filter(Boolean);
const SMAPS = process.env.IDLE_SMAPS === '1'; // also print the mappings that grew
const TIMEOUT_MS = Math.max(60_000, N * 10); // per server, everything included

function zergling() {
  const js = join(ROOT, 'dist/examples/echo.js');
  return existsSync(js) ? [NODE, js] : [NODE, '--import', 'tsx', join(ROOT, 'examples/echo.ts')];
}
const COMMANDS = {
  uring_echo: (p) => [join(ROOT, 'build/bench/uring_echo'), String(p)],
  zergling_echo: (p) => [...zergling(), '--port', String(p), ...ZL_ARGS],
  node_net: (p) => [NODE, join(HERE, 'peers/node_net_echo.mjs'), String(p)],
  bun_echo: (p) => [BUN, join(HERE, 'peers/bun_echo.mjs'), String(p)],
};
const SERVERS = (process.env.SERVERS ?? 'uring_echo zergling_echo node_net bun_echo').split(/\s+/).filter(Boolean);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** bash -c 'ulimit -n N && exec "$@"' so that the server can hold N sockets. */
function spawnLimited(argv, opts = {}) {
  return spawn('bash', ['-c', `ulimit -n ${NOFILE} && exec "$@"`, 'bash', ...argv],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
}

function memOf(pid) {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(st)?.[1] ?? 0);
  let anon = 0, file = 0;
  try {
    const sr = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    anon = Number(/^Anonymous:\s+(\d+)/m.exec(sr)?.[1] ?? 0);
    file = Number(/^Rss:\s+(\d+)/m.exec(sr)?.[1] ?? 0) - anon;
  } catch { /* not readable: 0 */ }
  return { rss: kb('VmRSS'), hwm: kb('VmHWM'), anon, file };
}

/** Rss per mapping (start address -> { kb, size, name }) from /proc/PID/smaps. */
function smaps(pid) {
  const out = new Map();
  let cur;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      cur = { kb: 0, size: (parseInt(m[2], 16) - parseInt(m[1], 16)) / 1024, name: m[3] || '[anon]' };
      out.set(m[1], cur);
    } else if (cur && line.startsWith('Rss:')) {
      cur.kb = Number(line.split(/\s+/)[1]);
    }
  }
  return out;
}

/** The mappings whose Rss grew the most between two smaps() samples. */
function smapsDiff(a, b, top = 12) {
  const rows = [];
  for (const [k, v] of b) {
    const d = v.kb - (a.get(k)?.kb ?? 0);
    if (d !== 0) rows.push({ addr: k, d, ...v });
  }
  for (const [k, v] of a) if (!b.has(k) && v.kb) rows.push({ addr: k, d: -v.kb, ...v, name: `${v.name} (gone)` });
  rows.sort((x, y) => Math.abs(y.d) - Math.abs(x.d));
  return rows.slice(0, top).map((r) => `    ${String(r.d).padStart(8)} KiB  now ${String(r.kb).padStart(7)} of ${String(r.size).padStart(10)} KiB  ${r.addr} ${r.name}`).join('\n');
}

function fdCount(pid) {
  try { return readdirSync(`/proc/${pid}/fd`).length; } catch { return -1; }
}

function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

async function freePort() {
  for (;;) {
    // Below the ephemeral range (32768..), where the clients' sockets live.
    const p = 20000 + Math.floor(Math.random() * 12000);
    if (!(await portOpen(p))) return p;
  }
}

/** Waits (bounded) until `pid`'s RSS stops moving by more than 64 KiB per 250 ms. */
async function settledMem(pid) {
  await sleep(SETTLE_MS);
  let prev = memOf(pid);
  for (let i = 0; i < 20; i++) {
    await sleep(250);
    const m = memOf(pid);
    if (Math.abs(m.rss - prev.rss) < 64) return m;
    prev = m;
  }
  return prev;
}

// The client: opens N connections (at most 256 connecting at once), prints
// "ok N" once all are established, then holds them until stdin closes or the
// time bound. Runs as a separate process (this file with --client).
async function client(port, n) {
  const socks = [];
  let opened = 0, failed = 0, inFlight = 0, next = 0;
  const deadline = setTimeout(() => { console.log(`timeout ${opened}`); process.exit(2); }, TIMEOUT_MS);
  await new Promise((resolve) => {
    const pump = () => {
      while (inFlight < 256 && next < n) {
        next++; inFlight++;
        const s = net.connect({ port, host: '127.0.0.1' });
        s.on('connect', () => { opened++; inFlight--; socks.push(s); done(); });
        s.on('error', () => { failed++; inFlight--; done(); });
      }
    };
    const done = () => { if (opened + failed === n) resolve(); else pump(); };
    pump();
  });
  clearTimeout(deadline);
  console.log(`ok ${opened} ${failed}`);
  const end = () => { for (const s of socks) s.destroy(); process.exit(0); };
  process.stdin.on('end', end).on('close', end).resume();
  setTimeout(end, TIMEOUT_MS).unref();
}

/** measureOnce, again on a new port if another process took the first one. */
async function measure(name) {
  let r;
  for (let i = 0; i < 3; i++) {
    r = await measureOnce(name);
    if (!(r.skip ?? '').includes('EADDRINUSE')) break;
  }
  return r;
}

async function measureOnce(name) {
  const mk = COMMANDS[name];
  if (mk === undefined) return { name, skip: 'unknown server' };
  const port = await freePort();
  const argv = mk(port);
  if (!existsSync(argv[0])) return { name, skip: `${argv[0]} missing` };
  const srv = spawnLimited(argv);
  let log = '';
  srv.stdout.on('data', (d) => { log += d; });
  srv.stderr.on('data', (d) => { log += d; });
  const kill = async () => {
    try { process.kill(-srv.pid, 'SIGTERM'); } catch { return; }
    for (let i = 0; i < 50 && srv.exitCode === null && srv.signalCode === null; i++) await sleep(100);
    try { process.kill(-srv.pid, 'SIGKILL'); } catch { /* gone */ }
  };
  let cli;
  try {
    const t0 = Date.now();
    while (!(await portOpen(port))) {
      if (srv.exitCode !== null || Date.now() - t0 > 30_000) throw new Error(`did not start: ${log.slice(-400)}`);
      await sleep(100);
    }
    const fd0 = fdCount(srv.pid);
    const before = await settledMem(srv.pid);
    const maps0 = SMAPS ? smaps(srv.pid) : undefined;
    cli = spawnLimited([NODE, fileURLToPath(import.meta.url), '--client', String(port), String(N)],
      { stdio: ['pipe', 'pipe', 'inherit'] });
    const status = await new Promise((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error('client timed out')), TIMEOUT_MS);
      cli.stdout.on('data', (d) => {
        out += d;
        const m = /^(ok|timeout) .*$/m.exec(out);
        if (m) { clearTimeout(t); resolve(m[0]); }
      });
      cli.on('exit', (c) => { clearTimeout(t); reject(new Error(`client exited ${c}: ${out}`)); });
    });
    const opened = Number(status.split(' ')[1]);
    // Until the server holds every connection (bounded: 20 s).
    for (let i = 0; i < 200 && fdCount(srv.pid) < fd0 + opened; i++) await sleep(100);
    const held = fdCount(srv.pid) - fd0;
    const after = await settledMem(srv.pid);
    const diff = SMAPS ? smapsDiff(maps0, smaps(srv.pid)) : undefined;
    return { name, opened, held, before, after, perConn: (after.rss - before.rss) / opened, diff };
  } catch (err) {
    return { name, skip: err.message };
  } finally {
    cli?.stdin.end();
    if (cli) await new Promise((r) => { if (cli.exitCode !== null) r(); else { cli.once('exit', r); setTimeout(r, 5000); } });
    await kill();
  }
}

if (CLIENT) {
  await client(Number(process.argv[3]), Number(process.argv[4]));
} else {
  if (spawnSync('bash', ['-c', `ulimit -n ${NOFILE}`]).status !== 0) {
    throw new Error(`ulimit -n ${NOFILE} refused (hard limit ${spawnSync('bash', ['-c', 'ulimit -Hn']).stdout}); use fewer connections`);
  }
  console.log(`idle connections: ${N}, loopback, RSS in KiB (VmRSS; anon/file from smaps_rollup)`);
  console.log('server           conns   base  (anon)   after  (anon)  KiB/conn  anon/conn   VmHWM');
  for (const name of SERVERS) {
    const r = await measure(name);
    if (r.skip) { console.log(`${name.padEnd(15)}  skipped: ${r.skip}`); continue; }
    const f = (v, w) => String(v).padStart(w);
    console.log(`${name.padEnd(15)} ${f(r.opened, 6)} ${f(r.before.rss, 6)} ${f(r.before.anon, 7)} ${f(r.after.rss, 7)} ${f(r.after.anon, 7)}` +
      ` ${f(r.perConn.toFixed(2), 9)} ${f(((r.after.anon - r.before.anon) / r.opened).toFixed(2), 10)} ${f(r.after.hwm, 7)}` +
      (r.held < r.opened ? `  (server holds ${r.held} fds more)` : ''));
    if (r.diff) console.log(r.diff);
  }
}
