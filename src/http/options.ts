// serve() options: limits and timeouts with their defaults, checked before
// anything is bound.
import { invalidArgType, outOfRange } from '../errors.ts';
import type { HttpLimits } from './conn.ts';

export const HTTP_DEFAULTS: Readonly<HttpLimits> = Object.freeze({
  maxHeaderSize: 16 << 10,
  maxHeaders: 100,
  maxUrlSize: 8 << 10,
  maxBodySize: 10 << 20,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  requestTimeoutMs: 60_000,
  lingerMs: 2_000,
});

const RANGES: Record<keyof HttpLimits, [number, number]> = {
  maxHeaderSize: [256, 1 << 20],
  maxHeaders: [1, 10_000],
  maxUrlSize: [16, 1 << 20],
  maxBodySize: [0, Number.MAX_SAFE_INTEGER],
  headersTimeoutMs: [0, 0x7fffffff],
  keepAliveTimeoutMs: [0, 0x7fffffff],
  requestTimeoutMs: [0, 0x7fffffff],
  lingerMs: [0, 0x7fffffff],
};

export type HttpLimitOptions = Partial<HttpLimits>;

export const LIMIT_KEYS = Object.keys(RANGES) as (keyof HttpLimits)[];

/** The limits with defaults filled in; a bad value throws ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE. */
export function resolveLimits(o: Record<string, unknown>): HttpLimits {
  const out = { ...HTTP_DEFAULTS };
  for (const k of LIMIT_KEYS) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== 'number') throw invalidArgType(`options.${k}`, 'of type number', v);
    const [lo, hi] = RANGES[k];
    if (!Number.isInteger(v) || v < lo || v > hi) throw outOfRange(`options.${k}`, `an integer >= ${lo} && <= ${hi}`, v);
    out[k] = v;
  }
  if (out.maxUrlSize > out.maxHeaderSize) out.maxUrlSize = out.maxHeaderSize;
  return out;
}

/** Sweep period: a quarter of the shortest timeout, between 10 ms and 1 s; 0 when every timeout is off. */
export function sweepPeriod(l: HttpLimits): number {
  const ts = [l.headersTimeoutMs, l.keepAliveTimeoutMs, l.requestTimeoutMs, l.lingerMs].filter((t) => t > 0);
  if (ts.length === 0) return 0;
  return Math.max(10, Math.min(1000, Math.floor(Math.min(...ts) / 4)));
}
