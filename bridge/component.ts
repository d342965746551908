// Instantiating the reactor component from core modules the caller supplies.
// This file imports no node: module, so a browser (or any runtime without a
// file system) can load the reactor through it: compile the core modules with
// `compileReactorCores` (fetch + WebAssembly.compile), then instantiate as
// many reactors as needed. bridge/index.ts adds the node:fs loader on top.
import { instantiate } from './gen/reactor/reactor.js';
import { ZerglingError } from './backend.ts';
import type { Backend, Reactor } from './backend.ts';

/** Returns the compiled core module jco named `path` (e.g. 'reactor.core.wasm'). */
export type GetCoreModule = (path: string) => WebAssembly.Module;

/** A fresh reactor core instance bound to `backend`, from the given core modules. */
export function instantiateReactor(backend: Backend, getCoreModule: GetCoreModule): Reactor {
  return bindReactor(instantiate, getCoreModule, backend);
}

export type Instantiate = typeof instantiate;
const TICK = 'zergling:reactor/reactor#tick';

/**
 * Instantiates through jco's glue, with the two per-turn crossings done in
 * place: tick's event list is lifted as a view, and peek-batch-cqe's CQE
 * records are lowered with one copy.
 * - The glue lifts a `list<u32>` by slicing the core's memory: a new
 *   ArrayBuffer (a malloc'd backing store) every turn. The core keeps each
 *   returned batch intact until the next tick (zl_events.c double-buffers it,
 *   reactor.wit says so), so a view over its memory is the same list: the
 *   returned array is valid until the next tick, which is how every caller
 *   consumes it.
 * - The glue lowers a returned `list<u8>` through two fresh typed arrays per
 *   call (one over the host's bytes, one over the guest's block). Here the
 *   host's bytes are copied through one cached view of the core's memory into
 *   the block `cabi_realloc` lends, and (ptr, len) go where the core asked:
 *   the canonical ABI's lowering, without the per-call views.
 */
export function bindReactor(inst: Instantiate, getCoreModule: GetCoreModule, backend: Backend): Reactor {
  // The core module's exports (the one module that imports peek-batch-cqe),
  // and two views of its memory, rebuilt together when it grows: a grown
  // memory is a new buffer, and views of the old one read nothing.
  let core: WebAssembly.Exports | undefined;
  let memory: WebAssembly.Memory | undefined;
  let bytes = new Uint8Array(0), words = new Uint32Array(0);
  const views = (): void => {
    if (bytes.buffer !== memory!.buffer) { bytes = new Uint8Array(memory!.buffer); words = new Uint32Array(memory!.buffer); }
  };
  let realloc: ((old: number, oldLen: number, align: number, len: number) => number) | undefined;
  const host = backend.host;
  const peek = (ring: number, max: number, retptr: number): void => {
    const cqes = host.peekBatchCqe(ring >>> 0, max >>> 0);
    const len = cqes.byteLength;
    const ptr = realloc!(0, 0, 1, len);
    views(); // after the realloc, which may grow the memory
    if ((retptr & 3) !== 0 || retptr + 8 > bytes.length || ptr + len > bytes.length) {
      throw coreError(`peek-batch-cqe: result at ${retptr}, block at ${ptr} + ${len} outside the core's memory`);
    }
    bytes.set(cqes, ptr);
    words[retptr >>> 2] = ptr;
    words[(retptr >>> 2) + 1] = len;
  };
  const reactor = inst(getCoreModule, { 'zergling:reactor/host': host }, (module, imports) => {
    const hostImports = imports?.['zergling:reactor/host'] as Record<string, unknown> | undefined;
    if (hostImports === undefined || !('peek-batch-cqe' in hostImports)) return new WebAssembly.Instance(module, imports);
    const instance = new WebAssembly.Instance(module, { ...imports, 'zergling:reactor/host': { ...hostImports, 'peek-batch-cqe': peek } });
    const { memory: m, cabi_realloc: r } = instance.exports;
    if (!(m instanceof WebAssembly.Memory) || typeof r !== 'function' || typeof instance.exports[TICK] !== 'function') {
      throw coreError('the core module exports no memory, cabi_realloc or tick');
    }
    core = instance.exports;
    memory = m;
    realloc = r as typeof realloc;
    return instance;
  }).reactor;
  if (core === undefined) throw coreError('no core module imports peek-batch-cqe');
  const lower = core[TICK] as () => number;
  const tick = (): Uint32Array => {
    const ret = lower() >>> 2; // where the core put the list's (ptr, len)
    views();
    if (ret + 1 >= words.length) throw coreError(`tick returned a list header outside the core's memory (${ret * 4})`);
    const ptr = words[ret]!, len = words[ret + 1]!;
    if ((ptr & 3) !== 0 || (ptr >>> 2) + len > words.length) {
      throw coreError(`tick returned a list outside the core's memory (ptr ${ptr}, len ${len})`);
    }
    return words.subarray(ptr >>> 2, (ptr >>> 2) + len);
  };
  return { ...reactor, tick };
}

class Probe extends Error {}

/**
 * The core module files the transpiled component asks for, in order. jco's
 * sync glue requests every module before it instantiates the first one, so a
 * dry run that stops at the first instantiation lists them without reading
 * any file. Asking the glue keeps this correct when a rebuild changes the
 * number of core modules.
 */
export function reactorCoreFiles(): string[] {
  const files: string[] = [];
  const stand = {} as WebAssembly.Module;
  try {
    instantiate((p) => { files.push(p); return stand; }, { 'zergling:reactor/host': {} as Backend['host'] },
      () => { throw new Probe(); });
  } catch (e) {
    if (!(e instanceof Probe)) throw e;
  }
  return files;
}

/**
 * Compiles every core module once, fetching each file's bytes with `read`
 * (e.g. `(f) => fetch(new URL(f, base))` in a browser). The result is a
 * `GetCoreModule` for `instantiateReactor`; it throws `ERR_ZERGLING_CORE_MODULE`
 * for a file it was not given.
 */
export async function compileReactorCores(
  read: (file: string) => Promise<Response | ArrayBuffer | Uint8Array>,
): Promise<GetCoreModule> {
  const compiled = new Map<string, WebAssembly.Module>();
  for (const f of reactorCoreFiles()) {
    const src = await read(f);
    let bytes: ArrayBuffer | Uint8Array;
    if (src instanceof ArrayBuffer || src instanceof Uint8Array) {
      bytes = src;
    } else {
      if (!src.ok) throw coreError(`fetching ${f}: HTTP ${src.status}`);
      bytes = await src.arrayBuffer();
    }
    compiled.set(f, await WebAssembly.compile(bytes as BufferSource));
  }
  return (p) => {
    const m = compiled.get(p);
    if (m === undefined) throw coreError(`no compiled core module ${p}`);
    return m;
  };
}

function coreError(message: string): ZerglingError {
  return new ZerglingError('ERR_ZERGLING_CORE_MODULE', `reactor component: ${message}`);
}
