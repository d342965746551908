// Binds the simulated kernel's methods into the `Host` object jco's glue
// expects (it destructures plain functions, so every one is bound here) and
// records every call in the trace: name, arguments, result.
import type { Host } from '../backend.ts';
import type { SimKernel } from './kernel.ts';
import type { Trace } from './trace.ts';

/** Every import of `interface host`, in WIT order. The type check below keeps it complete. */
export const HOST_NAMES = [
  'createRing', 'createRingEx', 'destroyRing', 'getRingFlags',
  'getSqe', 'submit', 'submitAndWait', 'submitAndWaitTimeout', 'enter',
  'waitCqe', 'waitCqeTimeout', 'waitCqes', 'peekBatchCqe', 'cqeSeen', 'cqAdvance', 'cqReady', 'sqReady',
  'prepMultishotAccept', 'prepRecvMultishotSelect', 'prepRecvSelect', 'prepSend', 'prepSendmsg', 'prepCancel64',
  'sqeSetData64', 'cqeGetData64',
  'setupBufRing', 'freeBufRing', 'bufRingAdd', 'bufRingAdvance', 'cqeHasBuffer', 'cqeBufferId',
  'slabCreate', 'slabDestroy',
  'socket', 'bind', 'bind6', 'listen', 'setsockopt', 'close', 'fcntl', 'inetPton', 'shutdown', 'getsockname', 'getpeername',
  'pinCurrentThreadToCpu',
] as const satisfies readonly (keyof Host)[];

type Missing = Exclude<keyof Host, (typeof HOST_NAMES)[number]>;
const complete: [Missing] extends [never] ? true : Missing = true;
void complete;

/** The kernel must implement every host function with jco's exact signature. */
const conforms = (k: SimKernel): Host => k;
void conforms;

type AnyFn = (...args: unknown[]) => unknown;

export function makeHost(kernel: SimKernel, trace: Trace): Host {
  const out: Record<string, AnyFn> = {};
  HOST_NAMES.forEach((name, id) => {
    const fn = (kernel[name] as AnyFn).bind(kernel);
    out[name] = (...args: unknown[]): unknown => {
      const r = fn(...args);
      trace.call(id, name, args, r);
      return r;
    };
  });
  return out as unknown as Host;
}
