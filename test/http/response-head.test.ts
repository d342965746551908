// The fast path's response head, byte for byte: the cached prefix of a 200
// keep-alive response with one header block must give the bytes the general
// path gives, follow the Date line when the second changes, and stay out of
// the way of every response it does not fit (another status, HTTP/1.0,
// Connection: close, two blocks, a block with its own Content-Length).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Output } from '../../src/http/output.ts';
import { expireDate, refreshDate } from '../../src/http/date.ts';
import { HttpResponse, headerBlock, type ResponseSink } from '../../src/http/response.ts';

/** A sink that stages into its own Output and keeps what each response staged. */
function sink(): { sink: ResponseSink; take(): string } {
  const output = new Output();
  const s: ResponseSink = {
    output,
    inBatch: true,
    stage: () => {},
    staged: () => true,
    writeDirect: () => true,
    flushed: () => Promise.resolve(),
    done: () => {},
  };
  return {
    sink: s,
    take(): string {
      const text = output.buf.toString('latin1', 0, output.len);
      output.len = 0;
      return text;
    },
  };
}

const TEXT = headerBlock({ 'content-type': 'text/plain' });
const OTHER = headerBlock({ 'x-other': '1' });
const WITH_LENGTH = headerBlock({ 'content-length': '2' });

const realNow = Date.now;
function at(ms: number): void {
  Date.now = () => ms;
  expireDate();
  refreshDate();
}
test.after.each(() => { Date.now = realNow; });

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0, 100);
const date = (ms: number): string => `Date: ${new Date(ms).toUTCString()}\r\n`;

test('a 200 with one block: the same bytes on every response, and the Date of its second', () => {
  const { sink: s, take } = sink();
  const res = new HttpResponse(s);
  at(T0);
  for (const body of ['Hello', 'Hello', 'a longer body, two digits']) {
    res.begin(false, false, true);
    res.headers(TEXT).end(body);
    assert.is(take(), `HTTP/1.1 200 OK\r\n${date(T0)}content-type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  }
  at(T0 + 1000); // the next second: the prefix is rebuilt with the new Date line
  res.begin(false, false, true);
  res.headers(TEXT).end('Hello');
  assert.is(take(), `HTTP/1.1 200 OK\r\n${date(T0 + 1000)}content-type: text/plain\r\nContent-Length: 5\r\n\r\nHello`);
  res.begin(true, false, true); // HEAD: the same head, no body
  res.headers(TEXT).end('Hello');
  assert.is(take(), `HTTP/1.1 200 OK\r\n${date(T0 + 1000)}content-type: text/plain\r\nContent-Length: 5\r\n\r\n`);
});

test('responses the prefix does not fit take the general path', () => {
  const { sink: s, take } = sink();
  const res = new HttpResponse(s);
  const t = T0 + 5000; // the Date line only moves forward
  at(t);
  const d = date(t);
  res.begin(false, false, true);
  res.writeHead(404, TEXT).end('no');
  assert.is(take(), `HTTP/1.1 404 Not Found\r\n${d}content-type: text/plain\r\nContent-Length: 2\r\n\r\nno`);
  res.begin(false, true, true); // HTTP/1.0 keep-alive
  res.headers(TEXT).end('ok');
  assert.is(take(), `HTTP/1.1 200 OK\r\n${d}Connection: keep-alive\r\ncontent-type: text/plain\r\nContent-Length: 2\r\n\r\nok`);
  res.begin(false, false, false); // the server closes after this one
  res.headers(TEXT).end('ok');
  assert.is(take(), `HTTP/1.1 200 OK\r\n${d}Connection: close\r\ncontent-type: text/plain\r\nContent-Length: 2\r\n\r\nok`);
  res.begin(false, false, true);
  res.headers(TEXT).headers(OTHER).end('ok');
  assert.is(take(), `HTTP/1.1 200 OK\r\n${d}content-type: text/plain\r\nx-other: 1\r\nContent-Length: 2\r\n\r\nok`);
  res.begin(false, false, true);
  res.headers(WITH_LENGTH).end('ok');
  assert.is(take(), `HTTP/1.1 200 OK\r\n${d}content-length: 2\r\n\r\nok`);
  res.begin(false, false, true);
  res.headers(TEXT).setHeader('x-set', 'v').end('ok');
  assert.is(take(), `HTTP/1.1 200 OK\r\n${d}content-type: text/plain\r\nx-set: v\r\nContent-Length: 2\r\n\r\nok`);
  res.begin(false, false, true); // streamed: chunked, not the prefix
  res.headers(TEXT).write('ab');
  res.end();
  assert.is(take(), `HTTP/1.1 200 OK\r\n${d}content-type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n`);
  // and the cached path after all that still gives its bytes
  res.begin(false, false, true);
  res.headers(TEXT).end('ok');
  assert.is(take(), `HTTP/1.1 200 OK\r\n${d}content-type: text/plain\r\nContent-Length: 2\r\n\r\nok`);
});

test.run();
