// Runs a range of seeds as uvu tests (one test per block), failing with the
// seeds, their first failures and the replay commands.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { replayCommand, runScenario } from './scenario.ts';

export function seedBlocks(first: number, count: number, block = 50): void {
  for (let b = first; b < first + count; b += block) {
    const end = Math.min(b + block, first + count) - 1;
    test(`seeds ${b}..${end}: echo invariants hold`, async () => {
      const bad: string[] = [];
      for (let s = b; s <= end; s++) {
        const r = await runScenario(s);
        if (!r.ok) bad.push(`seed ${s}: ${r.failures.slice(0, 3).join(' | ')}\n    replay: ${replayCommand(s)}`);
      }
      assert.ok(bad.length === 0, `${bad.length} seed(s) failed:\n  ${bad.join('\n  ')}`);
    });
  }
}
