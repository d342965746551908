// report.mjs RESULTS.jsonl [META.json] - Markdown tables from bench/run.sh's
// JSONL on stdout: a ratio overview, then one table per workload.
// msgs/s is the median over rounds; "x ref" divides by the C io_uring
// reference's median in the same file (same invocation, same machine state).
import { summarize, readJsonl, readMeta, familyOrder, familyTable, big, fix } from './lib.mjs';

const [file, metaFile] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/report.mjs results.jsonl [meta.json]');
  process.exit(1);
}
const meta = readMeta(metaFile);
const { workloads, skipped } = summarize(readJsonl(file));
const out = [];
const p = (s = '') => out.push(s);

p(`# zergling bench${meta.date ? ` — ${meta.date}` : ''}`);
p();
if (meta.kernel) {
  p(
    `- Machine: ${meta.host_cpus} CPUs (${meta.cpu}), Linux ${meta.kernel}; node ${meta.node}` +
      `${meta.bun ? `, bun ${meta.bun}` : ''}${meta.deno ? `, deno ${meta.deno}` : ''}; ${meta.wrk}; liburing ${meta.liburing}.`,
  );
  p(
    `- Server pinned to CPU ${meta.server_cpu}, load (build/bench/loadgen or wrk) to CPU ${meta.client_cpu}, 127.0.0.1 only. ` +
      `Each run: fresh server, ${meta.warmup} s warmup load (discarded), ${meta.duration} s measured; ${meta.rounds} round(s), medians.`,
  );
  p(`- Command: \`${meta.command}\``);
}
p('- msgs/s: echoed messages, HTTP responses or 64 MiB transfers per second. p50/p99: loadgen = first byte sent to last byte back; wrk = its own (none with pipelining).');
p('- peak RSS: VmHWM of the server process(es); server CPU: cores used during the measured run (/proc/PID/stat).');
p('- x ref: msgs/s ÷ the C io_uring reference\'s (uring_echo / uring_http) in this run; p99 x ref likewise for p99.');
for (const s of skipped) p(`- Skipped ${s.server}: ${s.reason}.`);
p();

// overview: workloads x families
const families = familyOrder(new Set(workloads.flatMap((w) => w.rows.map((r) => r.family))));
if (workloads.length) {
  p('## msgs/s ratio to the C io_uring reference');
  p();
  for (const l of familyTable(workloads, families, (r) => `${fix(r.xref, 2)} (${big(r.rate)})`)) p(l);
  p();
}

const multi = Number(meta.rounds) > 1;
for (const w of workloads) {
  p(`### ${w.name} — ${w.desc}`);
  p();
  p(
    `| server | runs | msgs/s | ${multi ? 'min–max | ' : ''}x ref | MB/s | p50 us | p99 us | p99 x ref | peak RSS MiB | server CPU | client CPU | errors | notes |`,
  );
  p(`|---|---|---|${multi ? '---|' : ''}---|---|---|---|---|---|---|---|---|---|`);
  for (const r of w.rows) {
    p(
      `| ${r.server} | ${r.runs} | ${big(r.rate)} | ${multi ? `${big(r.min)}–${big(r.max)} | ` : ''}${fix(r.xref, 2)} | ${fix(r.mbs, 1)} | ` +
        `${fix(r.p50, 1)} | ${fix(r.p99, 1)} | ${fix(r.p99xref, 2)} | ${fix(r.rssKb / 1024, 1)} | ${fix(r.scpu, 2)} | ` +
        `${fix(r.ccpu, 2)} | ${r.errors} | ${[...r.flags].join('; ')} |`,
    );
  }
  p();
}
if (!workloads.length) p('No runs.');
process.stdout.write(out.join('\n') + '\n');
