// What tests, the scenario runner and the sim backend read or poke from
// outside the host interface. None of it is callable by the guest: the host
// binds only HOST_NAMES (host.ts).
import type { OpState } from './op.ts';
import type { Ring } from './ring.ts';
import { Sock } from './socket.ts';
import type { Opcode } from './sqe.ts';
import { KernelState } from './state.ts';

export class KernelInspection extends KernelState {
  /** The socket behind a guest fd (no ownership check), for tests. */
  sockAt(fd: number): Sock | undefined {
    const f = this.files.at(fd);
    return f instanceof Sock ? f : undefined;
  }

  ring(handle: number): Ring | undefined {
    return this.rings.get(handle);
  }

  /** In-flight requests per ring, by opcode. */
  inflight(): { ring: number; opcode: Opcode; userData: bigint; state: OpState }[] {
    const out: { ring: number; opcode: Opcode; userData: bigint; state: OpState }[] = [];
    for (const r of this.rings.values()) for (const op of r.ops) out.push({ ring: r.handle, opcode: op.opcode, userData: op.userData, state: op.state });
    return out;
  }

  /** Sets (or clears, with undefined) the CQ pressure fault on every ring. */
  setCqPressure(cap: number | undefined): void {
    for (const r of this.rings.values()) {
      r.pressureCap = cap;
      if (cap === undefined && r.overflow.length > 0) r.signal();
    }
  }

  /** fds the guest owns now, ascending. */
  ownedFdList(): number[] {
    return this.files.ownedList();
  }

  ownedFdCount(): number {
    return this.files.ownedCount();
  }

  /** Every fd in the table (host's and guest's). */
  openFdCount(): number {
    return this.files.openCount();
  }
}
