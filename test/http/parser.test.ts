// HeadParser.method(): the common GET is remembered from the scan, every other
// method compared; a head split at any byte, after heads of other methods,
// must still name its own method (no state left from the request before).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HeadParser } from '../../src/http/parser.ts';
import { HTTP_DEFAULTS } from '../../src/http/options.ts';

const HEADS = [
  'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
  'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n',
  'GETS / HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
  'HEAD / HTTP/1.1\r\nHost: a\r\n\r\n',
  'G / HTTP/1.1\r\nHost: a\r\n\r\n',
];

test('the method of every head, cut at every byte, in any order', () => {
  const p = new HeadParser(HTTP_DEFAULTS);
  let checked = 0;
  for (let round = 0; round < 2; round++) {
    for (const head of round === 0 ? HEADS : [...HEADS].reverse()) {
      const b = Buffer.from(head, 'latin1');
      for (let cut = 0; cut < b.length; cut++) {
        p.reset();
        let r = cut > 0 ? p.execute(b, 0, cut) : 0;
        if (!p.done) r = p.execute(b, cut, b.length);
        assert.ok(p.done, `${JSON.stringify(head)} cut at ${cut}: parsed`);
        assert.is(r, b.length);
        assert.is(p.method(b), head.slice(0, head.indexOf(' ')), `${JSON.stringify(head)} cut at ${cut}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 300);
});

test.run();
