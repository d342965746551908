// What the engine does with the listener's events: accept errors (and the
// retry of an accept parked for want of fds) and handed-off fds.
import type { Backend, ZerglingError } from '../../bridge/backend.ts';
import { errnoError } from '../../bridge/backend.ts';
import { EMFILE, ENFILE } from '../../bridge/consts.ts';

/** Retry delay of an accept parked because the process ran out of fds. */
export const ACCEPT_RETRY_MS = 100;

/**
 * Reports an accept error. Out of fds, the core parks the accept until a
 * connection closes or a tick finds nothing to reap; on an idle reactor the
 * timer started here is that tick (`retry`).
 */
export function listenerError(errno: number, rearmed: boolean,
  report: (err: ZerglingError, gaveUp: boolean) => void, retry: () => void): void {
  report(errnoError(-errno, 'accept'), !rearmed);
  if ((errno === EMFILE || errno === ENFILE) && rearmed) setTimeout(retry, ACCEPT_RETRY_MS).unref();
}

/**
 * Only a handoff listener (listen-ex flag LISTEN_HANDOFF) emits handoff
 * events; an engine never asks for one, so an fd that shows up here is
 * closed, not leaked.
 */
export function strayHandoff(backend: Backend, fd: number): void {
  backend.closeFd(fd);
}
