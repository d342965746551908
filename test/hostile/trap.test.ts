// A bug in the core (a Wasm trap) must not take the process down or leak: the
// server reports ERR_REACTOR_TRAP to onError, closes every fd the reactor
// owned, closes every connection, and later calls fail cleanly. The core under
// test is reactor-trap, built to trap on a 13-byte recv; real io_uring.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { loadReactorVariant } from '../../bridge/index.ts';
import { checkIoUring, createNativeBackend } from '../../bridge/native.ts';
import { Server } from '../../src/server.ts';
import { resolveOptions } from '../../src/options.ts';
import type { Connection } from '../../src/connection.ts';
import { connect, procFds, roundTrip, until } from '../api/helpers.ts';

test('a trapping core: onError gets ERR_REACTOR_TRAP, every fd is closed, the process lives on', async () => {
  checkIoUring();
  const fd0 = procFds();
  const backend = createNativeBackend();
  const core = await loadReactorVariant(backend, 'trap');
  const errors: Error[] = [];
  const conns: Connection[] = [];
  const echo = async (conn: Connection): Promise<void> => {
    conns.push(conn);
    for await (const b of conn) if (!conn.write(b)) await conn.flush();
  };
  const server = new Server(backend, false, resolveOptions({ port: 0 }), echo, (e) => errors.push(e), undefined, () => core);
  const port = server.address().port;
  const a = await connect(port);
  const b = await connect(port);
  assert.is((await roundTrip(a, Buffer.from('hello'))).toString(), 'hello', 'the core works until it traps');
  await until(() => conns.length === 2);
  assert.is(backend.ownedFds(), 3, 'listener + 2 connections');

  b.write(Buffer.alloc(13, 0x21)); // the trap
  await until(() => errors.length > 0, 3000, 'onError');
  const err = errors[0] as Error & { code?: string; cause?: unknown };
  assert.is(err.code, 'ERR_REACTOR_TRAP');
  assert.instance(err.cause, WebAssembly.RuntimeError);
  assert.is(errors.length, 1, 'reported once');
  assert.is(backend.ownedFds(), 0, 'every fd the reactor owned is closed');
  for (const c of conns) {
    assert.is(c.state, 'closed');
    assert.is(c.error?.code, 'ERR_REACTOR_TRAP');
    assert.is(c.write('more'), false, 'writes after the trap are refused, not thrown');
  }
  await Promise.all([a, b].map((s) => new Promise<void>((r) => { if (s.destroyed) r(); else s.once('close', () => r()); s.resume(); })));
  assert.is(server.listening, false);
  // New connections are refused: the listener is gone.
  const refused = await new Promise<string>((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => { s.destroy(); resolve('connected'); });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
  assert.is(refused, 'ECONNREFUSED');
  await server.close();
  assert.is(procFds(), fd0, 'no fd leaked (ring, eventfd, sockets)');
});

test.run();
