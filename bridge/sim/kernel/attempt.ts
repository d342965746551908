// One attempt of a request to make progress, by opcode (at issue, and again
// on each wake-up while it is armed).
import { attemptAccept } from './accept.ts';
import type { Op } from './op.ts';
import { attemptRecv } from './recv.ts';
import { attemptSend } from './send.ts';
import type { KernelState } from './state.ts';

export function attempt(k: KernelState, op: Op, atIssue = false): void {
  switch (op.opcode) {
    case 'accept':
      return attemptAccept(k, op);
    case 'recv':
      return attemptRecv(k, op, atIssue);
    case 'send':
      return attemptSend(k, op);
    default:
      return;
  }
}
