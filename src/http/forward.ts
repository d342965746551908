// The look-alike technique LazyRequest and LazyResponse share: an object whose
// prototype chain holds the runtime's Request.prototype (or Response's), so
// `instanceof` holds, whose own members answer from what it keeps, and whose
// every other member (and the runtime's symbol-keyed slots) first builds the
// real object and forwards to it.

/**
 * Makes every member of `realProto` that `proto` does not define itself
 * (`own`) forward to `real(this)`, and every symbol-keyed slot that a real
 * instance (`probe`) carries; then chains `proto` to `realProto`.
 */
export function forwardRest<T, R extends object>(proto: object, realProto: object, own: ReadonlySet<string>,
  real: (self: T) => R, probe: R): void {
  for (const key of Reflect.ownKeys(realProto)) {
    if (key === 'constructor' || key === Symbol.toStringTag || (typeof key === 'string' && own.has(key))) continue;
    const d = Object.getOwnPropertyDescriptor(realProto, key)!;
    if (typeof d.value === 'function') {
      const f = d.value as (...a: unknown[]) => unknown;
      Object.defineProperty(proto, key, {
        configurable: true, writable: true,
        value: function (this: T, ...args: unknown[]) { return f.apply(real(this), args); },
      });
    } else if (d.get !== undefined) {
      const get = d.get;
      Object.defineProperty(proto, key, { configurable: true, get(this: T) { return get.call(real(this)); } });
    }
  }
  // The internal slots (undici keeps an object's state, signal and headers under symbols).
  for (const key of Object.getOwnPropertySymbols(probe)) {
    Object.defineProperty(proto, key, {
      configurable: true,
      get(this: T) { return (real(this) as Record<symbol, unknown>)[key]; },
      set(this: T, v: unknown) { (real(this) as Record<symbol, unknown>)[key] = v; },
    });
  }
  Object.setPrototypeOf(proto, realProto);
}
