// What a server allocates on the JS heap per message, by allocating function:
// V8's sampling heap profiler, with the objects the young and old generation
// collectors already freed included (those are most of what a hot path allocates).
//   preload:  HEAP_OUT=/tmp/heap.json node --import ./bench/heap-sample.mjs SERVER...
//             samples from HEAP_START_MS (2500) to HEAP_STOP_MS (5500) after start
//   summary:  node bench/heap-sample.mjs /tmp/heap.json MESSAGES_IN_THAT_WINDOW
// The per-message figures are estimates (one sample per 1 KiB allocated).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];

if (main) {
  const [file, msgs] = process.argv.slice(2);
  if (file === undefined || !(Number(msgs) > 0)) {
    console.error('usage: node bench/heap-sample.mjs PROFILE.json MESSAGES');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const bySite = new Map();
  let total = 0;
  const walk = (n) => {
    const f = n.callFrame;
    const site = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
    total += n.selfSize;
    if (n.selfSize > 0) bySite.set(site, (bySite.get(site) ?? 0) + n.selfSize);
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  console.log(`| allocating function | bytes per message |\n|---|---:|`);
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
    console.log(`| ${site} | ${(bytes / Number(msgs)).toFixed(1)} |`);
  }
  console.log(`| **total** | ${(total / Number(msgs)).toFixed(1)} |`);
} else {
  const { Session } = await import('node:inspector');
  const s = new Session();
  s.connect();
  const post = (m, p) => new Promise((res, rej) => s.post(m, p, (e, r) => (e ? rej(e) : res(r))));
  await post('HeapProfiler.enable');
  const out = process.env.HEAP_OUT ?? '/tmp/heap.json';
  setTimeout(() => {
    post('HeapProfiler.startSampling', {
      samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true,
    }).then(() => console.error(`heap-sample: sampling at ${Date.now()}`));
  }, Number(process.env.HEAP_START_MS ?? 2500)).unref();
  setTimeout(async () => {
    const r = await post('HeapProfiler.stopSampling');
    writeFileSync(out, JSON.stringify(r.profile));
    console.error(`heap-sample: wrote ${out} at ${Date.now()}`);
  }, Number(process.env.HEAP_STOP_MS ?? 5500)).unref();
}
