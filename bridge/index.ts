// The bridge: instantiates the jco-transpiled reactor component with a
// backend's host functions. The compiled core modules are cached per process,
// so each reactor costs one instantiation, not one compilation.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { instantiate as instantiateReactor } from './gen/reactor/reactor.js';
import type { Backend, Reactor } from './backend.ts';

export * from './backend.ts';

const modules = new Map<string, WebAssembly.Module>();

/** Loads (once) a core module that jco emitted next to a transpiled component. */
export function coreModule(component: 'reactor' | 'probe', path: string): WebAssembly.Module {
  const key = `${component}/${path}`;
  let m = modules.get(key);
  if (m === undefined) {
    const url = new URL(`./gen/${component}/${path}`, import.meta.url);
    m = new WebAssembly.Module(readFileSync(fileURLToPath(url)));
    modules.set(key, m);
  }
  return m;
}

/** A fresh reactor core instance bound to `backend`. */
export function loadReactor(backend: Backend): Reactor {
  const root = instantiateReactor((p) => coreModule('reactor', p), {
    'zergling:reactor/host': backend.host,
  });
  return root.reactor;
}
