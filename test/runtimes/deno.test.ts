// The API suites and the cluster's thread plumbing under Deno 2.9 (a dev
// dependency, `deno run -A`) on real io_uring, through the same waiter-thread
// wake-ups as Bun.
//
// Left out: test/cluster/{acceptor,reuseport,errors}.test.ts. Their serving
// checks pass under Deno, but after a cluster closes the process keeps extra
// anon_inode [eventfd]/[eventpoll] descriptors (Deno worker runtimes), so
// their fd-baseline check fails (README, "Platforms").
import { test } from 'uvu';
import { API_SUITES, root, runSuites } from './suites.ts';

const deno = `${root}node_modules/.bin/deno`;
runSuites('deno', [deno, 'run', '-A'], [
  ...API_SUITES,
  'test/cluster/channel.test.ts', 'test/cluster/core-handoff.test.ts',
]);
test.run();
