// The fused queue-* imports take a 64-bit token as two u32 halves (host.wit:
// a u64 would be a BigInt per SQE). Tests keep tokens as bigints and split
// them at the call.

/** [hi, lo] of a token, to spread as the last two arguments of a queue-* call. */
export const halves = (token: bigint): [number, number] =>
  [Number(BigInt.asUintN(64, token) >> 32n), Number(BigInt.asUintN(32, token))];

/** The token of a queue-* call's two halves. */
export const joined = (hi: number, lo: number): bigint => BigInt(hi >>> 0) << 32n | BigInt(lo >>> 0);
