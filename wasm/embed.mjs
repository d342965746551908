// `jco embed` for one named world. jco 1.13.0's CLI drops --world-name, so with
// more than one world in wasm/wit ("multiple worlds found") the CLI cannot be used.
// usage: node wasm/embed.mjs WIT_DIR WORLD IN.wasm OUT.wasm
import { componentEmbed } from '@bytecodealliance/jco';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const [wit, world, input, output] = process.argv.slice(2);
if (!output) {
  console.error('usage: node wasm/embed.mjs WIT_DIR WORLD IN.wasm OUT.wasm');
  process.exit(2);
}
writeFileSync(output, await componentEmbed({ binary: readFileSync(input), witPath: resolve(wit), world }));
