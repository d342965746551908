// Binds the simulated kernel's methods into the `Host` object jco's glue
// expects (it destructures plain functions, so every one is bound here) and
// records every call in the trace: name, arguments, result.
import { HOST_NAMES } from '../backend.ts';
import type { Host } from '../backend.ts';
import type { SimKernel } from './kernel.ts';
import type { Trace } from './trace.ts';

export { HOST_NAMES };

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
