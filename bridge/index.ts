// The bridge: instantiates the jco-transpiled reactor component with a
// backend's host functions. The compiled core modules are cached per process,
// so each reactor costs one instantiation, not one compilation. Without a
// file system (a browser), use bridge/component.ts directly.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ImportObject, Root } from './gen/reactor/reactor.js';
import type { Backend, Reactor } from './backend.ts';
import { instantiateReactor } from './component.ts';

export * from './backend.ts';
export { compileReactorCores, instantiateReactor, reactorCoreFiles } from './component.ts';
export type { GetCoreModule } from './component.ts';

const modules = new Map<string, WebAssembly.Module>();

export type Component = 'reactor' | 'reactor-broken' | 'probe';

/** Loads (once) a core module that jco emitted next to a transpiled component. */
export function coreModule(component: Component, path: string): WebAssembly.Module {
  const key = `${component}/${path}`;
  let m = modules.get(key);
  if (m === undefined) {
    const url = new URL(`./gen/${component}/${path}`, import.meta.url);
    m = new WebAssembly.Module(readFileSync(fileURLToPath(url)));
    modules.set(key, m);
  }
  return m;
}

type Instantiate = (get: (p: string) => WebAssembly.Module, imports: ImportObject) => Root;
let brokenInstantiate: Instantiate | undefined;

/**
 * A fresh reactor core instance bound to `backend`. `variant: 'broken'` loads
 * the core built with -DZL_FAULT_SKIP_STALE_CHECK (`make wasm-broken`), which
 * exists only to prove that the simulator catches a broken core.
 */
export async function loadReactorVariant(backend: Backend, variant: 'broken'): Promise<Reactor> {
  if (variant !== 'broken') throw new TypeError(`unknown reactor variant ${String(variant)}`);
  brokenInstantiate ??= (await import('./gen/reactor-broken/reactor.js')).instantiate as Instantiate;
  return brokenInstantiate((p) => coreModule('reactor-broken', p), { 'zergling:reactor/host': backend.host }).reactor;
}

/** A fresh reactor core instance bound to `backend`. */
export function loadReactor(backend: Backend): Reactor {
  return instantiateReactor(backend, (p) => coreModule('reactor', p));
}
