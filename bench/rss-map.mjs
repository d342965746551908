// Where a process's resident memory is, by kind of mapping (/proc/PID/smaps):
// the runtime's binary (file pages), V8's heap pages, glibc's heaps (brk and
// per-thread arenas), zergling's slabs (large anonymous mappings), the rings.
//   node bench/rss-map.mjs PID [PID2]     (two PIDs: side by side, and the difference)
import { readFileSync } from 'node:fs';

const ARENA = 64 * 1024 * 1024; // glibc's per-thread heaps are 64 MiB-aligned reservations
const V8_PAGE = 256 * 1024;

/** kind -> resident KiB */
function map(pid) {
  const out = new Map();
  let kind = null;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      const start = BigInt(`0x${m[1]}`), size = Number(BigInt(`0x${m[2]}`) - start), name = m[4];
      if (name === '[heap]') kind = 'glibc heap (brk: the main thread)';
      else if (name.startsWith('anon_inode:[io_uring]')) kind = 'io_uring rings (SQ, CQ, SQEs)';
      else if (name.startsWith('/') || name.startsWith('[')) kind = `${name.split('/').pop()} ${m[3]}`;
      else if (size === V8_PAGE) kind = 'V8 heap pages (256 KiB)';
      else if (start % BigInt(ARENA) === 0n && size <= ARENA) kind = 'glibc arenas (other threads)';
      else if (size >= 4 * 1024 * 1024) kind = 'large anonymous (slabs, Wasm memory, V8 code space)';
      else kind = 'other anonymous';
      continue;
    }
    if (kind !== null && line.startsWith('Rss:')) out.set(kind, (out.get(kind) ?? 0) + Number(line.split(/\s+/)[1]));
  }
  return out;
}

const pids = process.argv.slice(2);
if (pids.length === 0 || pids.length > 2) {
  console.error('usage: node bench/rss-map.mjs PID [PID2]');
  process.exit(2);
}
const maps = pids.map(map);
const kinds = [...new Set(maps.flatMap((m) => [...m.keys()]))]
  .map((k) => [k, Math.max(...maps.map((m) => m.get(k) ?? 0))])
  .filter(([, v]) => v >= 64)
  .sort((a, b) => b[1] - a[1])
  .map(([k]) => k);
const mib = (kib) => (kib / 1024).toFixed(1);
const head = `| mapping | ${pids.map((p) => `PID ${p} (MiB)`).join(' | ')}${pids.length === 2 ? ' | difference |' : ' |'}`;
console.log(head);
console.log(`|---|${pids.map(() => '---:|').join('')}${pids.length === 2 ? '---:|' : ''}`);
const row = (label, vals) => {
  const cells = vals.map(mib);
  if (vals.length === 2) cells.push((vals[0] - vals[1] >= 0 ? '+' : '') + mib(vals[0] - vals[1]));
  console.log(`| ${label} | ${cells.join(' | ')} |`);
};
for (const k of kinds) row(k, maps.map((m) => m.get(k) ?? 0));
row('**total**', maps.map((m) => [...m.values()].reduce((a, b) => a + b, 0)));
