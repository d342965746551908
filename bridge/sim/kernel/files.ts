// The fd table. Numbers follow Linux (lowest free fd); a file lives while fd
// entries or in-flight requests reference it. Ownership is separate from
// presence: the guest may use only the fds it owns (sockets it created,
// accepted fds once it read their CQE), never the host runtime's.
import * as C from '../consts.ts';

export abstract class File {
  /** fd-table references + in-flight request references. */
  refs = 0;
  abstract readonly kind: 'std' | 'ring' | 'eventfd' | 'sock';
  /** The last reference went away. */
  abstract released(): void;
}

export class PlainFile extends File {
  constructor(readonly kind: 'std' | 'ring' | 'eventfd') {
    super();
  }
  released(): void {}
}

export class FdTable {
  /** index = fd. */
  private readonly fds: (File | undefined)[] = [];
  private readonly owned = new Set<number>();
  /** Released by releaseFd, not yet claimed: no guest's. */
  private readonly transit = new Set<number>();

  constructor(private readonly limit: number) {}

  at(fd: number): File | undefined {
    return this.fds[fd];
  }

  owns(fd: number): boolean {
    return this.owned.has(fd);
  }

  private lowestFree(): number {
    let fd = 0;
    while (fd < this.fds.length && this.fds[fd] !== undefined) fd++;
    return fd;
  }

  /** Installs `file` at the lowest free fd (Linux's rule); -EMFILE past the limit. */
  install(file: File, guest: boolean): number {
    const fd = this.lowestFree();
    if (fd >= this.limit) return -C.EMFILE;
    this.fds[fd] = file;
    file.refs++;
    if (guest) this.owned.add(fd);
    return fd;
  }

  uninstall(fd: number): void {
    const f = this.fds[fd];
    if (f === undefined) return;
    this.fds[fd] = undefined;
    this.owned.delete(fd);
    while (this.fds.length > 0 && this.fds[this.fds.length - 1] === undefined) this.fds.pop();
    this.unref(f);
  }

  unref(f: File): void {
    f.refs--;
    if (f.refs === 0) f.released();
  }

  /** An fd the kernel installed for the guest (an accept's) becomes the guest's, if still open. */
  adopt(fd: number): void {
    if (this.fds[fd] !== undefined) this.owned.add(fd);
  }

  /** The guest's fd leaves it, into transit. */
  release(fd: number): void {
    this.owned.delete(fd);
    this.transit.add(fd);
  }

  /** An fd in transit becomes a guest's; false when it was not in transit. */
  claim(fd: number): boolean {
    if (!this.transit.delete(fd)) return false;
    this.owned.add(fd);
    return true;
  }

  /** fds the guest owns now, ascending. */
  ownedList(): number[] {
    return [...this.owned].sort((a, b) => a - b);
  }

  ownedCount(): number {
    return this.owned.size;
  }

  /** Every fd in the table (host's and guest's). */
  openCount(): number {
    let n = 0;
    for (const f of this.fds) if (f !== undefined) n++;
    return n;
  }
}
