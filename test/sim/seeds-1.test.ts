// Seeds 1..500 of the default 1,000 (split so each file stays well under 60 s).
import { test } from 'uvu';
import { seedBlocks } from './seeds.ts';

seedBlocks(1, 500);
test.run();
