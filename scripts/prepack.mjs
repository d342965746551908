// `npm pack` / `npm publish` take dist/ and prebuilds/ as they are: refuse to
// pack a tree that `make build` has not produced, rather than ship a package
// whose first listen() fails.
import { existsSync } from 'node:fs';

const needed = [
  'dist/src/index.js', 'dist/src/index.d.ts', 'dist/bridge/sim/index.js', 'dist/bridge/native-load.js',
  'dist/bridge/gen/reactor/reactor.js', 'dist/bridge/gen/types/reactor-core.d.ts',
  'prebuilds/linux-x64-glibc/zergling_native.node', 'prebuilds/linux-x64-musl/zergling_native.node',
];
const missing = needed.filter((f) => !existsSync(new URL(`../${f}`, import.meta.url)));
if (missing.length > 0) {
  console.error(`zergling: cannot pack, missing ${missing.join(', ')}: run \`make build\` first`);
  process.exit(1);
}
