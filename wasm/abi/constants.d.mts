// Types of constants.mjs for the TypeScript that reads the table itself
// (test/contract/constants.test.ts); everything else imports bridge/consts.ts.
export interface ConstGroup {
  readonly id: string;
  readonly doc: string;
  /** Name prefix in C (zl_consts.h). */
  readonly c: string;
  /** Name prefix in TypeScript (bridge/consts.ts). */
  readonly ts: string;
  /** Printed as hex (flags). */
  readonly hex?: boolean;
  readonly entries: readonly (readonly [name: string, value: number, comment?: string])[];
}
export declare const GROUPS: readonly ConstGroup[];
