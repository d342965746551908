// chart.mjs RESULTS.jsonl [META.json] - an SVG on stdout: per workload, one
// bar per server = its msgs/s (median over rounds) divided by the C io_uring
// reference's in the same run; a dashed line marks 1.0. No dependencies.
import { summarize, readJsonl, readMeta, familyOrder, big } from './lib.mjs';

const [file, metaFile] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/chart.mjs results.jsonl [meta.json] > chart.svg');
  process.exit(1);
}
const meta = readMeta(metaFile);
const { workloads } = summarize(readJsonl(file));

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const PALETTE = {
  'C io_uring (ref)': '#7f7f7f',
  zergling: '#d62728',
  'Node net/http': '#2ca02c',
  Bun: '#e3a21a',
  Deno: '#1f77b4',
  'Bun node:*': '#f2cf7e',
  'Deno node:*': '#9cc3e6',
};
const EXTRA = ['#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];
const families = familyOrder(new Set(workloads.flatMap((w) => w.rows.map((r) => r.family))));
const colour = new Map();
let extra = 0;
for (const f of families) colour.set(f, PALETTE[f] ?? EXTRA[extra++ % EXTRA.length]);

const W = 980;
const H = 520;
const left = 56;
const right = 56;
const top = 92;
const bottom = 64;
const plotW = W - left - right;
const plotH = H - top - bottom;
const maxRatio = Math.max(1, ...workloads.flatMap((w) => w.rows.map((r) => (Number.isFinite(r.xref) ? r.xref : 0))));
const yMax = Math.ceil((maxRatio * 1.1) / 0.2) * 0.2;
const y = (v) => top + plotH - (v / yMax) * plotH;
const step = yMax <= 1.6 ? 0.2 : yMax <= 4 ? 0.5 : Math.ceil(yMax / 8);

const svg = [];
const add = (s) => svg.push(s);
add(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
add(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
add(`<text x="${left}" y="22" font-size="16" font-weight="bold">msgs/s relative to the C io_uring reference, same run (higher is better)</text>`);
const sub = [
  meta.date,
  meta.kernel && `Linux ${meta.kernel}`,
  meta.host_cpus && `${meta.host_cpus} CPUs`,
  meta.node && `node ${meta.node}`,
  meta.server_cpu !== undefined && `server on CPU ${meta.server_cpu}, load on CPU ${meta.client_cpu}`,
  meta.duration && `${meta.duration} s x ${meta.rounds} round(s)`,
]
  .filter(Boolean)
  .join(' · ');
add(`<text x="${left}" y="40" fill="#555">${esc(sub)}</text>`);

// legend
let lx = left;
for (const f of families) {
  add(`<rect x="${lx}" y="54" width="12" height="12" fill="${colour.get(f)}"/>`);
  add(`<text x="${lx + 16}" y="65">${esc(f)}</text>`);
  lx += 16 + f.length * 7 + 18;
}

// axis and grid
for (let v = 0; v <= yMax + 1e-9; v += step) {
  const yy = y(v).toFixed(1);
  add(`<line x1="${left}" x2="${W - right}" y1="${yy}" y2="${yy}" stroke="#e5e5e5"/>`);
  add(`<text x="${left - 6}" y="${(+yy + 4).toFixed(1)}" text-anchor="end" fill="#555">${v.toFixed(1)}</text>`);
}
add(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#999"/>`);
add(`<line x1="${left}" x2="${W - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="#999"/>`);
add(`<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#555">x C reference</text>`);

// bars
const groupW = workloads.length ? plotW / workloads.length : plotW;
workloads.forEach((w, gi) => {
  const gx = left + gi * groupW;
  const rows = [...w.rows].sort((a, b) => families.indexOf(a.family) - families.indexOf(b.family));
  const inner = groupW * 0.84;
  const bw = rows.length ? Math.min(36, inner / rows.length) : 0;
  const x0 = gx + (groupW - bw * rows.length) / 2;
  rows.forEach((r, i) => {
    const x = x0 + i * bw;
    const ok = Number.isFinite(r.xref);
    const v = ok ? r.xref : 0;
    const yy = y(v);
    const title = `${r.server} on ${w.name}: ${big(r.rate)} msgs/s, x${ok ? r.xref.toFixed(2) : '-'}, errors ${r.errors}`;
    if (ok) {
      add(
        `<rect x="${(x + 1).toFixed(1)}" y="${yy.toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(top + plotH - yy).toFixed(1)}" fill="${colour.get(r.family)}"><title>${esc(title)}</title></rect>`,
      );
      const label = r.xref.toFixed(2) + (r.errors ? '!' : '');
      if (bw >= 26) {
        add(`<text x="${(x + bw / 2).toFixed(1)}" y="${(yy - 4).toFixed(1)}" text-anchor="middle" font-size="10">${label}</text>`);
      } else {
        add(`<text transform="translate(${(x + bw / 2 + 3).toFixed(1)} ${(yy - 4).toFixed(1)}) rotate(-90)" font-size="10">${label}</text>`);
      }
    } else {
      add(`<text x="${(x + bw / 2).toFixed(1)}" y="${(top + plotH - 4).toFixed(1)}" text-anchor="middle" fill="#c00" font-size="11"><title>${esc(title)}</title>x</text>`);
    }
  });
  const ref = w.rows.find((r) => r.server === w.ref);
  add(`<text x="${(gx + groupW / 2).toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle" font-weight="bold">${esc(w.name)}</text>`);
  add(
    `<text x="${(gx + groupW / 2).toFixed(1)}" y="${top + plotH + 34}" text-anchor="middle" fill="#555" font-size="11">ref ${esc(ref ? big(ref.rate) : '-')}/s</text>`,
  );
});
const y1 = y(1).toFixed(1);
add(`<line x1="${left}" x2="${W - right}" y1="${y1}" y2="${y1}" stroke="#333" stroke-dasharray="6 4"/>`);
add(`<text x="${W - right + 4}" y="${(+y1 + 4).toFixed(1)}" fill="#333" font-size="11">C ref</text>`);
add(`<text x="${left}" y="${H - 10}" fill="#555" font-size="11">bars marked ! had errors; a red x = the server did not produce a result (see latest.md)</text>`);
add('</svg>');
process.stdout.write(svg.join('\n') + '\n');
