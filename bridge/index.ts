// The bridge: instantiates the jco-transpiled reactor component with a
// backend's host functions. The compiled core modules are cached per process,
// so each reactor costs one instantiation, not one compilation. Without a
// file system (a browser), use bridge/component.ts directly.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Backend, Reactor } from './backend.ts';
import { bindReactor, instantiateReactor, type Instantiate } from './component.ts';

export * from './backend.ts';
export { compileReactorCores, instantiateReactor, reactorCoreFiles } from './component.ts';
export type { GetCoreModule } from './component.ts';

const modules = new Map<string, WebAssembly.Module>();

export type Component = 'reactor' | `reactor-${ReactorVariant}` | 'probe';
/** Deliberately broken cores (tests only, never shipped): see the Makefile. */
export type ReactorVariant = 'broken' | 'nobudget' | 'trap';

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

const variantInstantiate = new Map<ReactorVariant, Instantiate>();

/**
 * A fresh instance of a deliberately broken core (`make wasm` builds them into
 * bridge/gen/reactor-VARIANT), which exist only so tests can prove they are
 * caught: 'broken' has no stale-token check, 'nobudget' no receive budget,
 * 'trap' traps on a 13-byte recv.
 */
export async function loadReactorVariant(backend: Backend, variant: ReactorVariant): Promise<Reactor> {
  let inst = variantInstantiate.get(variant);
  if (inst === undefined) {
    if (variant !== 'broken' && variant !== 'nobudget' && variant !== 'trap') {
      throw new TypeError(`unknown reactor variant ${String(variant)}`);
    }
    inst = (await import(`./gen/reactor-${variant}/reactor.js`) as { instantiate: Instantiate }).instantiate;
    variantInstantiate.set(variant, inst);
  }
  const component = `reactor-${variant}` as const;
  return bindReactor(inst, (p) => coreModule(component, p), backend);
}

/** A fresh reactor core instance bound to `backend`. */
export function loadReactor(backend: Backend): Reactor {
  return instantiateReactor(backend, (p) => coreModule('reactor', p));
}
