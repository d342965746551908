// The acceptor: a reactor of its own on the main thread whose listener is in
// handoff mode (listen-ex flag 2). Its multishot accept completes into its own
// ring; each tick yields `handoff` events (kind 7, w1 = fd) that are routed to
// the reactor threads. It never reads or writes a connection.
import type { Backend, Reactor } from '../../bridge/backend.ts';
import { errnoError, type ZerglingError } from '../../bridge/backend.ts';
import { loadReactor } from '../../bridge/index.ts';
import { listenError } from '../errors.ts';
import type { ResolvedOptions } from '../options.ts';
import { EBADF, EV_ERROR, EV_HANDOFF, LISTEN_HANDOFF, LISTEN_REUSEPORT } from '../../bridge/consts.ts';

export interface AcceptorHooks {
  /** An accepted fd, now the callee's to adopt elsewhere or close. */
  onFd(fd: number): void;
  onError(err: ZerglingError, gaveUp: boolean): void;
}

export class Acceptor {
  readonly port: number;
  readonly #backend: Backend;
  readonly #reactor: Reactor;
  readonly #ring: number;
  #hooks: AcceptorHooks | undefined;
  #unwatch: (() => void) | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #alive = true;
  #listening = true;
  #stopped: (() => void) | undefined;
  /** Fds handed off. */
  accepted = 0;
  listenerErrors = 0;

  /**
   * Creates the acceptor's ring and binds the listener; the accept is armed
   * by `start` (until then connections wait in the kernel's backlog).
   */
  static open(backend: Backend, opts: ResolvedOptions): Acceptor {
    const reactor = loadReactor(backend);
    // Only accepts complete here: a small SQ, one tiny receive buffer.
    const rc = reactor.create({
      ...opts.config,
      ringEntries: Math.min(opts.config.ringEntries, 256),
      recvBufferSize: 64,
      bufferRingEntries: 1,
      incremental: false,
    });
    if (rc < 0) throw errnoError(rc, 'io_uring_setup', 'creating the acceptor');
    // `reusePort` (a listen() option): another cluster or server may share the port.
    const reuse = (opts as { reusePort?: boolean }).reusePort === true ? LISTEN_REUSEPORT : 0;
    const port = reactor.listenEx(opts.host, opts.port, opts.family, opts.backlog, LISTEN_HANDOFF | reuse);
    if (port < 0) {
      reactor.destroy();
      throw listenError(port, opts.host, opts.port);
    }
    return new Acceptor(backend, reactor, port);
  }

  private constructor(backend: Backend, reactor: Reactor, port: number) {
    this.#backend = backend;
    this.#reactor = reactor;
    this.#ring = reactor.ring();
    this.port = port;
  }

  get listening(): boolean {
    return this.#listening;
  }

  /** Arms the multishot accept and starts handing fds to `hooks.onFd`. */
  start(hooks: AcceptorHooks): void {
    this.#hooks = hooks;
    this.#unwatch = this.#backend.watch(this.#ring, this.#tick);
    this.#tick(); // arms the accept; picks up what the backlog already holds
  }

  // The engine's turn, without the app: a wake-up ticks; a tick that found
  // nothing consumes the (level-triggered) wake-up signal and ticks once more,
  // which runs all deferred completions, before the acceptor sleeps.
  readonly #tick = (): void => {
    this.#immediate = undefined;
    if (!this.#alive) return;
    this.#turn();
    if (!this.#alive) return;
    let p = this.#reactor.pending();
    if ((p & 7) === 0) {
      this.#backend.quiesce(this.#ring);
      this.#turn();
      if (!this.#alive) return;
      p = this.#reactor.pending();
    }
    if ((p & 3) !== 0) this.#immediate ??= setImmediate(this.#tick);
  };

  #turn(): void {
    const ev = this.#reactor.tick();
    for (let i = 0; i < ev.length; i += 4) {
      const kind = ev[i]! & 0xff;
      if (kind === EV_HANDOFF) {
        const fd = ev[i + 1]! | 0;
        if (this.#hooks !== undefined && this.#listening) {
          this.accepted++;
          this.#hooks.onFd(fd);
        } else {
          this.#backend.closeFd(fd);
        }
      } else if (kind === EV_ERROR) {
        this.listenerErrors++;
        const gaveUp = ev[i + 2] === 0;
        if (gaveUp) this.#listening = false;
        this.#hooks?.onError(errnoError(-ev[i + 1]!, 'accept'), gaveUp);
      }
    }
    this.#reactor.submit(); // a re-armed accept, a cancel
    if (this.#stopped !== undefined && this.#reactor.stopAccepting() === -EBADF) {
      // The listener is closed (its accept ended): nothing more can arrive.
      const done = this.#stopped;
      this.#stopped = undefined;
      done();
    }
  }

  /** Cancels the accept; resolves once the listener is closed (or after `ms`). */
  stop(ms = 2000): Promise<void> {
    if (!this.#alive) return Promise.resolve();
    this.#listening = false;
    if (this.#reactor.stopAccepting() === -EBADF) return Promise.resolve();
    this.#reactor.submit();
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => { this.#stopped = undefined; resolve(); }, ms);
      this.#stopped = () => { clearTimeout(t); resolve(); };
      if (this.#unwatch === undefined) this.#tick(); // never started: nothing watches the ring
    });
  }

  /** Frees the ring (and closes the listener if `stop` did not finish). */
  destroy(): void {
    if (!this.#alive) return;
    this.#alive = false;
    this.#listening = false;
    this.#unwatch?.();
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#reactor.destroy();
  }
}
