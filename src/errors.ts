// Errors with Node's shape: every error zergling throws is an `Error` with a
// string `code`, so callers can branch on `err.code` as they do with `node:net`.
import { ZerglingError, errnoError } from '../bridge/backend.ts';

export { ZerglingError, errnoError };

/** Codes zergling itself raises (errno codes such as 'EADDRINUSE' come from the kernel). */
export const codes = Object.freeze({
  INVALID_ARG_TYPE: 'ERR_INVALID_ARG_TYPE',
  INVALID_ARG_VALUE: 'ERR_INVALID_ARG_VALUE',
  OUT_OF_RANGE: 'ERR_OUT_OF_RANGE',
  CHUNK_RELEASED: 'ERR_CHUNK_RELEASED',
  CHUNK_ALREADY_RELEASED: 'ERR_CHUNK_ALREADY_RELEASED',
  READ_PENDING: 'ERR_READ_PENDING',
  WRITE_AFTER_END: 'ERR_STREAM_WRITE_AFTER_END',
  STREAM_DESTROYED: 'ERR_STREAM_DESTROYED',
  ABORT: 'ABORT_ERR',
} as const);

/** A builtin error class (its statics kept) whose constructor takes a `code` first. */
type WithCode<C extends ErrorConstructor> = Omit<C, 'prototype'> & {
  new (code: string, message: string): InstanceType<C> & { readonly code: string };
};

/**
 * A builtin error class whose instances also carry a string `code`, and keep
 * the builtin's name ('TypeError', not the subclass's), as Node's own
 * ERR_* errors do: `instanceof TypeError` and `err.name` read the same.
 */
function withCode<C extends ErrorConstructor>(Base: C): WithCode<C> {
  return class extends (Base as ErrorConstructor) {
    readonly code: string;
    constructor(code: string, message: string) {
      super(message);
      this.name = Base.name;
      this.code = code;
    }
  } as unknown as WithCode<C>;
}

export class ZerglingTypeError extends withCode(TypeError) {}

export class ZerglingRangeError extends withCode(RangeError) {}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
    return ctor ? `an instance of ${ctor}` : 'an object';
  }
  let shown = String(value);
  if (shown.length > 28) shown = shown.slice(0, 25) + '...';
  if (typeof value === 'string') shown = `'${shown}'`;
  return `type ${typeof value} (${shown})`;
}

/** TypeError `ERR_INVALID_ARG_TYPE`, worded like Node's. */
export function invalidArgType(name: string, expected: string, actual: unknown): ZerglingTypeError {
  return new ZerglingTypeError(
    codes.INVALID_ARG_TYPE,
    `The "${name}" argument must be ${expected}. Received ${describe(actual)}`,
  );
}

/** TypeError `ERR_INVALID_ARG_VALUE`, worded like Node's. */
export function invalidArgValue(name: string, actual: unknown, reason: string): ZerglingTypeError {
  return new ZerglingTypeError(
    codes.INVALID_ARG_VALUE,
    `The argument '${name}' ${reason}. Received ${describe(actual)}`,
  );
}

/** RangeError `ERR_OUT_OF_RANGE`, worded like Node's. */
export function outOfRange(name: string, range: string, actual: unknown): ZerglingRangeError {
  return new ZerglingRangeError(
    codes.OUT_OF_RANGE,
    `The value of "${name}" is out of range. It must be ${range}. Received ${String(actual)}`,
  );
}

/**
 * The error of a listen that failed, from the core's negative errno, worded
 * as Node's `exceptionWithHostPort` words it for EADDRINUSE (one place for
 * listen() and the cluster's acceptor).
 */
export function listenError(rc: number, host: string, port: number): ZerglingError {
  const err = errnoError(rc, 'listen', `${host}:${port}`);
  if (err.code === 'EADDRINUSE') err.message = `listen EADDRINUSE: address already in use ${host}:${port}`;
  return err;
}

/** An `AbortError` as Node's APIs raise it (`name` 'AbortError', `code` 'ABORT_ERR'). */
export function abortError(reason?: unknown): ZerglingError {
  const err = new ZerglingError(codes.ABORT, 'The operation was aborted');
  err.name = 'AbortError';
  if (reason !== undefined) (err as Error).cause = reason;
  return err;
}
