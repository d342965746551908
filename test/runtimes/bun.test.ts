// The API suites and the cluster (worker_threads) under Bun 1.4 (a dev
// dependency) on real io_uring. Bun has no uv_poll: the helper's waiter
// thread wakes the reactor there (native/src/zl_wake.cc).
import { test } from 'uvu';
import { API_SUITES, root, runSuites } from './suites.ts';

const bun = `${root}node_modules/.bin/bun`;
runSuites('bun', [bun], [
  ...API_SUITES,
  'test/cluster/acceptor.test.ts', 'test/cluster/reuseport.test.ts', 'test/cluster/errors.test.ts',
  'test/cluster/channel.test.ts', 'test/cluster/core-handoff.test.ts',
]);
test.run();
