// Seeds 501..1000 of the default 1,000.
import { test } from 'uvu';
import { seedBlocks } from './seeds.ts';

seedBlocks(501, 500);
test.run();
