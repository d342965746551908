// Load for `make soak` (test/hostile/soak.ts): `conns` connections at a time,
// mixing echo clients (round trips of random sizes), non-readers (write, never
// read), resets (RST after some bytes) and churn (connect, one trip, close).
// Each connection lives a random while, then is replaced. Stops at `ms`.
'use strict';
const net = require('node:net');
const { port, conns, ms } = JSON.parse(process.argv[2]);
const end = Date.now() + ms;
const stats = { opened: 0, trips: 0, resets: 0, errors: 0 };
let live = 0;
const junk = Buffer.alloc(32 << 10, 0x33);
function spawnOne() {
  if (Date.now() >= end) return;
  const kind = Math.random();
  const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
  live++;
  stats.opened++;
  const life = setTimeout(() => s.destroy(), 500 + Math.random() * 5000);
  s.on('close', () => { clearTimeout(life); live--; spawnOne(); });
  s.on('error', () => { stats.errors++; });
  s.on('connect', () => {
    if (kind < 0.55) { // echo
      const msg = Buffer.alloc(1 + Math.floor(Math.random() * 4096), 0x61);
      let got = 0;
      s.on('data', (d) => { got += d.length; while (got >= msg.length) { got -= msg.length; stats.trips++; s.write(msg); } });
      s.write(msg);
    } else if (kind < 0.75) { // non-reader
      s.pause();
      const pump = () => { while (s.write(junk)); };
      s.on('drain', pump);
      pump();
    } else if (kind < 0.9) { // reset after some bytes
      s.write(junk, () => { stats.resets++; s.resetAndDestroy(); });
    } else { // churn
      s.once('data', () => s.end());
      s.write('x');
    }
  });
}
for (let i = 0; i < conns; i++) spawnOne();
const done = setInterval(() => {
  if (Date.now() >= end) { clearInterval(done); console.log(JSON.stringify(stats)); setTimeout(() => process.exit(0), 2000).unref(); }
}, 200);
