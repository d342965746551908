// lib.mjs - shared by report.mjs, chart.mjs and readme.mjs: read run.sh's
// JSONL, group runs per workload and server, medians over rounds, ratio to the
// C reference, and the workload x server-family Markdown table.
// Plain Node, no dependencies.
import { readFileSync } from 'node:fs';

export const WORKLOAD_ORDER = ['echo64', 'echo1k', 'pipe16', 'bulk64m', 'http', 'http_pipe16'];

export const refOf = (workload) => (workload.startsWith('http') ? 'uring_http' : 'uring_echo');

// Same family = same colour / column across echo and HTTP workloads.
export function familyOf(server) {
  const r = /^zergling_(?:echo|http)_r(\d+)$/.exec(server);
  if (r) return `zergling ${r[1]} reactors`;
  const table = {
    uring_echo: 'C io_uring (ref)',
    uring_http: 'C io_uring (ref)',
    zergling_echo: 'zergling',
    zergling_http: 'zergling',
    zergling_http_fetch: 'zergling fetch',
    zergling_http_fetch_global: 'zergling fetch (global Response)',
    base_echo: 'zergling (baseline)',
    base_http: 'zergling (baseline)',
    base_http_fetch: 'zergling fetch (baseline)',
    zergling_http_node: 'node:http over zergling',
    zergling_echo_bun: 'zergling on Bun',
    zergling_http_bun: 'zergling on Bun',
    zergling_echo_deno: 'zergling on Deno',
    zergling_http_deno: 'zergling on Deno',
    node_net: 'Node net/http',
    node_http: 'Node net/http',
    bun_echo: 'Bun',
    bun_http: 'Bun',
    deno_echo: 'Deno',
    deno_http: 'Deno',
    bun_net: 'Bun node:*',
    bun_node_http: 'Bun node:*',
    deno_net: 'Deno node:*',
    deno_node_http: 'Deno node:*',
  };
  return table[server] ?? server;
}

// column / legend order: reference, zergling, zergling N reactors, then peers
const FAMILY_RANK = ['C io_uring (ref)', 'zergling', 'zergling fetch', 'zergling fetch (global Response)', 'zergling *', 'node:http over zergling', 'Node net/http', 'Bun', 'Deno', 'Bun node:*', 'Deno node:*'];
export function familyOrder(families) {
  const rank = (f) => {
    const i = FAMILY_RANK.indexOf(f);
    if (i >= 0) return i;
    return f.startsWith('zergling ') ? 2 : FAMILY_RANK.length;
  };
  return [...families].sort((a, b) => rank(a) - rank(b));
}

export function readJsonl(file) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l, i) => {
      try {
        return JSON.parse(l);
      } catch (e) {
        throw new Error(`${file}: line ${i + 1} is not JSON: ${e.message}`);
      }
    });
}

export function readMeta(file) {
  if (!file) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
}

export const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const num = (x) => (typeof x === 'number' ? x : NaN);

// A run counts as measured when the server started and the load produced a
// result; its errors (wrong bytes, failed HTTP check, dead server) are summed.
function runErrors(r) {
  if (r.failed) return 1;
  return (r.errors ?? 0) + (r.check_failed ? 1 : 0) + (r.alive === 0 ? 1 : 0) + (r.no_result ? 1 : 0);
}

// -> { workloads: [{ name, ref, desc, rows: [stats...] }], skipped: [{server, reason}], failed: [...] }
export function summarize(runs) {
  const skipped = runs.filter((r) => r.skipped).map((r) => ({ server: r.server, reason: r.skipped }));
  const failed = runs.filter((r) => r.failed);
  const measured = runs.filter((r) => r.workload && !r.skipped);
  const names = [...new Set(measured.map((r) => r.workload))].sort(
    (a, b) => WORKLOAD_ORDER.indexOf(a) - WORKLOAD_ORDER.indexOf(b),
  );
  const workloads = names.map((wl) => {
    const ref = refOf(wl);
    const byServer = new Map();
    for (const r of measured.filter((x) => x.workload === wl)) {
      if (!byServer.has(r.server)) byServer.set(r.server, []);
      byServer.get(r.server).push(r);
    }
    const rows = [...byServer].map(([server, rs]) => {
      const ok = rs.filter((r) => !r.failed && !r.no_result && num(r.msgs_per_s) > 0);
      const rate = ok.map((r) => r.msgs_per_s);
      const flags = new Set();
      for (const r of rs) {
        if (r.failed) flags.add(`failed: ${r.failed}`);
        if (r.alive === 0) flags.add('server died');
        if (r.check_failed) flags.add('HTTP check failed');
        if (r.no_result) flags.add('no result from the load');
      }
      const stat = {
        server,
        family: familyOf(server),
        runs: `${ok.length}/${rs.length}`,
        rate: median(rate),
        min: rate.length ? Math.min(...rate) : NaN,
        max: rate.length ? Math.max(...rate) : NaN,
        mbs: median(ok.map((r) => num(r.MB_per_s))),
        p50: median(ok.map((r) => num(r.p50_us))),
        p99: median(ok.map((r) => num(r.p99_us))),
        scpu: median(ok.map((r) => num(r.server_cpu))),
        ccpu: median(ok.map((r) => num(r.client_cpu))),
        other: ok.length ? Math.max(...ok.map((r) => num(r.other_cpu) || 0)) : NaN,
        rssKb: ok.length ? Math.max(...ok.map((r) => num(r.rss_kb) || 0)) : NaN,
        errors: rs.reduce((a, r) => a + runErrors(r), 0),
        flags,
      };
      if (stat.ccpu >= 0.95 && stat.scpu < 0.9) flags.add('client-bound');
      if (stat.other > 0.3) flags.add(`noisy (other ${stat.other.toFixed(2)} cores)`);
      return stat;
    });
    const refRow = rows.find((s) => s.server === ref);
    for (const s of rows) {
      s.xref = refRow && refRow.rate > 0 ? s.rate / refRow.rate : NaN;
      s.p99xref = refRow && refRow.p99 > 0 ? s.p99 / refRow.p99 : NaN;
    }
    rows.sort((a, b) => (a.server === ref ? -1 : b.server === ref ? 1 : (b.rate || 0) - (a.rate || 0)));
    const first = measured.find((r) => r.workload === wl && r.conns !== undefined) ?? {};
    let desc;
    if (wl === 'bulk64m') desc = '1 connection, 64 MiB sent and read back per transfer, every byte checked; msgs/s = transfers/s';
    else if (wl.startsWith('http')) desc = `wrk -t1 -c64, ${first.pipeline ?? (wl === 'http' ? 1 : 16)} request(s) per write`;
    else desc = `${first.conns ?? '?'} conns, ${first.size ?? '?'} B messages, ${first.pipeline ?? '?'} in flight per conn, every byte checked`;
    return { name: wl, ref, desc, rows };
  });
  return { workloads, skipped, failed };
}

export const big = (x) =>
  !Number.isFinite(x)
    ? '-'
    : x >= 1e6
      ? `${(x / 1e6).toFixed(2)}M`
      : x >= 1e4
        ? `${(x / 1e3).toFixed(1)}k`
        : x.toFixed(1);
export const fix = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');

// A Markdown table, one row per workload and one column per family in `cols`
// (headed `header`): the cell is '' where the workload has no such server,
// `failed` where it has one without a measured rate, and `cell(row, workload)`
// otherwise. -> lines.
export function familyTable(workloads, cols, cell, { header = cols, failed = 'failed', label = (w) => w.name } = {}) {
  const lines = [`| workload | ${header.join(' | ')} |`, `|---|${header.map(() => '---').join('|')}|`];
  for (const w of workloads) {
    const cells = cols.map((c) => {
      const r = w.rows.find((x) => x.family === c);
      if (!r) return '';
      if (!Number.isFinite(r.rate)) return failed;
      return cell(r, w);
    });
    lines.push(`| ${label(w)} | ${cells.join(' | ')} |`);
  }
  return lines;
}
