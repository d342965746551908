// Renders build/http-conformance.json (written by test/http/conformance.test.ts)
// as the conformance table of docs/HTTP.md, between its begin/end markers.
//   node scripts/http-table.mjs [results.json] [docs/HTTP.md]
import { readFileSync, writeFileSync } from 'node:fs';

const [resultsFile = 'build/http-conformance.json', doc = 'docs/HTTP.md'] = process.argv.slice(2);
const { date, cases } = JSON.parse(readFileSync(resultsFile, 'utf8'));
const esc = (s) => String(s).replace(/\|/g, '\\|');
const mark = (ok, text) => `${ok ? 'pass' : '**FAIL**'}: ${esc(text)}`;
const both = cases.filter((c) => c.simOk && c.nativeOk).length;
const conns = cases.reduce((a, c) => a + c.connections, 0);
const lines = [
  `${cases.length} cases, ${conns} connections per backend; ${both} of ${cases.length} pass on both (run of ${date}).`,
  '',
  '| # | group | case | expected | simulator | io_uring |',
  '|---|---|---|---|---|---|',
  ...cases.map((c, i) => `| ${i + 1} | ${esc(c.group)} | ${esc(c.name)} | ${esc(c.expected)} | ${mark(c.simOk, c.sim)} | ${mark(c.nativeOk, c.native)} |`),
];
const text = readFileSync(doc, 'utf8');
const begin = '<!-- conformance:begin -->', end = '<!-- conformance:end -->';
const a = text.indexOf(begin), b = text.indexOf(end);
if (a < 0 || b < a) throw new Error(`${doc} has no ${begin} … ${end} section`);
writeFileSync(doc, `${text.slice(0, a + begin.length)}\n${lines.join('\n')}\n${text.slice(b)}`);
console.log(`${doc}: ${cases.length} cases written`);
