// Hostile load for test/hostile (run as a child process, so the server's event
// loop is not also the clients'). Bounded in count and time: every socket is
// destroyed and the process exits by `maxMs`. Prints one JSON line.
//   mode "flood": N non-readers write as fast as they can and never read; after
//     startDelayMs, E echo clients do round trips of msgSize bytes.
//   mode "slow": one client sends `bytes` and reads them back at ~rateBps.
'use strict';
const net = require('node:net');
const cfg = JSON.parse(process.argv[2]);
const host = '127.0.0.1';
const t0 = Date.now();
const all = [];
setTimeout(() => { console.log(JSON.stringify({ error: 'hard deadline' })); process.exit(3); }, cfg.maxMs + 10000).unref();

function flood() {
  const nr = { connected: 0, closed: 0, errors: 0, written: 0 };
  const junk = Buffer.alloc(64 << 10, 0x5a);
  let stop = false;
  for (let i = 0; i < cfg.nonReaders; i++) {
    const s = net.connect({ port: cfg.port, host });
    all.push(s);
    s.on('connect', () => {
      nr.connected++;
      s.pause(); // never read: our receive window closes, the server's sends stall
      const pump = () => { while (!stop && s.write(junk)) nr.written += junk.length; };
      s.on('drain', pump);
      pump();
    });
    s.on('error', () => { nr.errors++; });
    s.on('close', () => { nr.closed++; });
  }
  const echo = [];
  const msg = Buffer.alloc(cfg.msgSize, 0x61);
  let running = 0;
  const finish = () => {
    stop = true;
    const out = { nonReaders: { ...nr }, echo };
    for (const s of all) s.destroy();
    console.log(JSON.stringify(out));
    process.exit(0);
  };
  setTimeout(() => {
    for (let i = 0; i < cfg.echo; i++) {
      const r = { trips: 0, maxWaitMs: 0, error: null };
      echo.push(r);
      running++;
      const s = net.connect({ port: cfg.port, host, noDelay: true });
      all.push(s);
      let got = 0, sentAt = 0;
      const send = () => { sentAt = Date.now(); s.write(msg); };
      const done = () => { if (--running === 0) finish(); };
      s.on('connect', send);
      s.on('data', (d) => {
        got += d.length;
        while (got >= cfg.msgSize) {
          got -= cfg.msgSize;
          r.trips++;
          r.maxWaitMs = Math.max(r.maxWaitMs, Date.now() - sentAt);
          if (r.trips >= cfg.rounds || Date.now() - t0 > cfg.maxMs) { s.destroy(); done(); return; }
          send();
        }
      });
      s.on('error', (e) => { r.error = e.code; });
      s.on('close', () => { if (r.trips < cfg.rounds && r.error === null) r.error = 'closed'; });
    }
    // Clients that never got their replies still end the run by maxMs.
    setTimeout(() => {
      for (const r of echo) if (r.trips < cfg.rounds && r.error === null) r.error = 'timeout';
      finish();
    }, Math.max(0, cfg.maxMs - (Date.now() - t0))).unref();
  }, cfg.startDelayMs);
}

function slow() {
  const s = net.connect({ port: cfg.port, host, noDelay: true });
  all.push(s);
  const total = cfg.bytes;
  const block = Buffer.alloc(64 << 10);
  let sent = 0, got = 0, bad = -1;
  const patt = (i) => (i * 31 + 7) & 0xff;
  const pump = () => {
    while (sent < total) {
      const n = Math.min(block.length, total - sent);
      for (let k = 0; k < n; k++) block[k] = patt(sent + k);
      sent += n;
      if (!s.write(Buffer.from(block.subarray(0, n)))) return;
    }
  };
  s.on('connect', pump);
  s.on('drain', pump);
  // Read at ~rateBps: pause, then resume for one read every `tickMs`.
  const tickMs = 20;
  let budget = 0;
  s.on('data', (d) => {
    for (let k = 0; k < d.length; k++) if (bad < 0 && d[k] !== patt(got + k)) bad = got + k;
    got += d.length;
    budget -= d.length;
    if (budget <= 0) s.pause();
    if (got >= total) { s.destroy(); report(); }
  });
  s.pause();
  const iv = setInterval(() => { budget = (cfg.rateBps * tickMs) / 1000; s.resume(); }, tickMs);
  const report = () => {
    clearInterval(iv);
    console.log(JSON.stringify({ sent, got, bad, ms: Date.now() - t0 }));
    process.exit(0);
  };
  s.on('error', () => { clearInterval(iv); console.log(JSON.stringify({ sent, got, bad, error: true })); process.exit(0); });
  setTimeout(() => { s.destroy(); report(); }, cfg.maxMs).unref();
}

if (cfg.mode === 'flood') flood(); else slow();
