// The trace of every host call the guest made: name, arguments and result.
// A running 64-bit hash (two 32-bit murmur-style lanes over a canonical word
// encoding) is always kept; the readable lines only when asked for. Equal
// seeds must give equal hashes: that is the simulator's determinism test.

export type TraceSink = (line: string) => void;

export class Trace {
  private h1 = 0x243f6a88;
  private h2 = 0x85a308d3;
  /** Host calls recorded so far. */
  calls = 0;
  /** Readable lines are produced only when a sink is set. */
  sink: TraceSink | undefined;
  /** Virtual time getter, for readable lines. */
  clock: () => number = () => 0;

  constructor(sink?: TraceSink) {
    this.sink = sink;
  }

  /** The running hash as 16 hex digits. */
  get hash(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0');
  }

  word(w: number): void {
    let k = Math.imul(w | 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    let h = this.h1 ^ k;
    h = (h << 13) | (h >>> 19);
    this.h1 = (Math.imul(h, 5) + 0xe6546b64) | 0;
    let g = this.h2 ^ Math.imul(w ^ (w >>> 16), 0x85ebca6b);
    g = (g << 17) | (g >>> 15);
    this.h2 = (Math.imul(g, 0x27d4eb2f) + 0x165667b1) | 0;
  }

  value(v: unknown): void {
    switch (typeof v) {
      case 'number':
        if (Number.isInteger(v) && v >= -0x80000000 && v <= 0xffffffff) {
          this.word(1);
          this.word(v | 0);
        } else {
          this.word(2);
          this.word(Math.floor(v / 4294967296) | 0);
          this.word(v >>> 0);
        }
        return;
      case 'bigint':
        this.word(3);
        this.word(Number(BigInt.asUintN(32, v >> 32n)) | 0);
        this.word(Number(BigInt.asUintN(32, v)) | 0);
        return;
      case 'boolean':
        this.word(v ? 5 : 4);
        return;
      case 'string':
        this.word(6);
        this.word(v.length);
        for (let i = 0; i < v.length; i++) this.word(v.charCodeAt(i));
        return;
      case 'undefined':
        this.word(7);
        return;
      default:
        break;
    }
    if (v instanceof Uint8Array) {
      this.word(8);
      this.word(v.length);
      const n = v.length;
      let i = 0;
      for (; i + 4 <= n; i += 4) this.word(v[i]! | (v[i + 1]! << 8) | (v[i + 2]! << 16) | (v[i + 3]! << 24));
      for (; i < n; i++) this.word(v[i]!);
      return;
    }
    if (Array.isArray(v)) {
      this.word(9);
      this.word(v.length);
      for (const x of v) this.value(x);
      return;
    }
    if (v !== null && typeof v === 'object') {
      this.word(10);
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        this.word(k.length);
        this.value(x);
      }
      return;
    }
    this.word(11);
  }

  /** Records one host call. `id` is a stable small number for `name`. */
  call(id: number, name: string, args: readonly unknown[], result: unknown): void {
    this.calls++;
    this.word(0x7f000000 | id);
    for (const a of args) this.value(a);
    this.word(0x7e000000);
    this.value(result);
    if (this.sink !== undefined) this.sink(`${fmtTime(this.clock())} ${name}(${args.map(show).join(', ')}) = ${show(result)}`);
  }

  /** A world event (client action, network, kernel progress): readable only, not hashed. */
  note(text: string): void {
    if (this.sink !== undefined) this.sink(`${fmtTime(this.clock())}   # ${text}`);
  }
}

export function fmtTime(ns: number): string {
  return `${(ns / 1000).toFixed(3).padStart(12)}us`;
}

export function show(v: unknown): string {
  if (typeof v === 'bigint') return `0x${v.toString(16)}n`;
  if (v instanceof Uint8Array) {
    if (v.length % 16 === 0 && v.length > 0) {
      // peek-batch-cqe results: show as CQEs
      const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
      const parts: string[] = [];
      for (let i = 0; i < v.length; i += 16) {
        parts.push(`{ud=0x${dv.getBigUint64(i, true).toString(16)} res=${dv.getInt32(i + 8, true)} f=0x${dv.getUint32(i + 12, true).toString(16)}}`);
      }
      return `[${parts.join(' ')}]`;
    }
    return `bytes(${v.length})`;
  }
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}: ${show(x)}`).join(', ')}}`;
  }
  return String(v);
}
