// The shapes an HTTP connection shares with its server (handler, limits,
// counters, the per-server core) and the phases the timeout sweep reads.
// Apart from conn.ts so that conn-io.ts (its base class) can use them
// without importing the module that extends it.
import type { HeadLimits } from './parser.ts';
import type { HttpRequest } from './request.ts';
import type { HttpResponse } from './response.ts';
import type { Output } from './output.ts';
import type { HttpConnection } from './conn.ts';

export type FastHandler = (req: HttpRequest, res: HttpResponse) => void | Promise<void>;

export interface HttpLimits extends HeadLimits {
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  requestTimeoutMs: number;
  lingerMs: number;
}

export interface HttpCounters {
  requests: number;
  /** Requests refused by the parser or the limits, by status. */
  refused: Record<number, number>;
  handlerErrors: number;
  timeouts: { headers: number; keepAlive: number; request: number };
}

/** What every connection of one server shares. */
export interface HttpCore {
  readonly limits: HttpLimits;
  readonly output: Output;
  readonly handler: FastHandler;
  readonly counters: HttpCounters;
  /** Coarse clock (ms), advanced by the timeout sweep. */
  readonly clock: number;
  readonly closing: boolean;
  connectionOpened(c: HttpConnection): void;
  connectionDone(c: HttpConnection): void;
  report(err: Error): void;
}

/** What a connection is doing, for the timeout sweep. */
export const P_IDLE = 0; // between requests, nothing received
export const P_HEAD = 1; // part of a head received
export const P_BODY = 2; // head done, request being served
export const P_LINGER = 3; // answered and half-closed, draining until the peer closes
