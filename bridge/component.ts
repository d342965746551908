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
  return instantiate(getCoreModule, { 'zergling:reactor/host': backend.host }).reactor;
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
