// The one table of numbers the Wasm core (C) and the TypeScript layer share.
// `node scripts/gen-constants.mjs` writes wasm/include/zl_consts.h and
// bridge/consts.ts from it; both are committed, and
// test/contract/constants.test.ts fails when either differs from what this
// table generates (or when the compiled core disagrees with a value here).
// Each group: `c` / `ts` are the name prefixes on each side (the C names are
// the identifiers the core always used), `hex` prints the values as flags.
// An entry is [name, value] or [name, value, comment].

export const GROUPS = [
  {
    id: 'errno',
    doc: 'Linux errno values (host.wit: every negative host result is -errno). wasi-libc numbers\n' +
      'errno differently, so the core never mixes these with <errno.h>.',
    c: 'ZL_', ts: '',
    entries: [
      ['EPERM', 1], ['ENOENT', 2], ['EINTR', 4], ['EIO', 5], ['EBADF', 9], ['EAGAIN', 11],
      ['ENOMEM', 12], ['EACCES', 13], ['EFAULT', 14], ['EBUSY', 16], ['EEXIST', 17], ['EINVAL', 22],
      ['ENFILE', 23], ['EMFILE', 24], ['EPIPE', 32], ['ENOSYS', 38], ['ETIME', 62], ['ENOTSOCK', 88],
      ['ENOPROTOOPT', 92], ['EPROTONOSUPPORT', 93], ['EOPNOTSUPP', 95], ['EAFNOSUPPORT', 97],
      ['EADDRINUSE', 98], ['EADDRNOTAVAIL', 99], ['ECONNABORTED', 103], ['ECONNRESET', 104],
      ['ENOBUFS', 105], ['EISCONN', 106], ['ENOTCONN', 107], ['ETIMEDOUT', 110], ['ECONNREFUSED', 111],
      ['EALREADY', 114], ['ECANCELED', 125],
    ],
  },
  {
    id: 'socket',
    doc: 'Socket, fcntl and msg constants the core passes to the host (Linux values).',
    c: 'ZL_', ts: '',
    entries: [
      ['AF_INET', 2], ['AF_INET6', 10], ['SOCK_STREAM', 1], ['SOCK_NONBLOCK', 0x800], ['SOCK_CLOEXEC', 0x80000],
      ['SOL_SOCKET', 1], ['SO_REUSEADDR', 2], ['SO_REUSEPORT', 15], ['IPPROTO_TCP', 6], ['TCP_NODELAY', 1],
      ['IPPROTO_IPV6', 41], ['IPV6_V6ONLY', 26], ['F_GETFL', 3], ['F_SETFL', 4], ['O_NONBLOCK', 0x800],
      ['SHUT_WR', 1], ['SHUT_RDWR', 2], ['MSG_NOSIGNAL', 0x4000], ['MSG_WAITALL', 0x100],
    ],
  },
  {
    id: 'setup',
    doc: 'io_uring_setup flags (create-ring-ex, get-ring-flags).',
    c: 'ZL_SETUP_', ts: 'IORING_SETUP_', hex: true,
    entries: [
      ['SQPOLL', 1 << 1], ['SQ_AFF', 1 << 2], ['COOP_TASKRUN', 1 << 8], ['SINGLE_ISSUER', 1 << 12],
      ['DEFER_TASKRUN', 1 << 13],
    ],
  },
  {
    id: 'enter',
    doc: 'io_uring_enter flags (the enter import).',
    c: 'ZL_ENTER_', ts: 'IORING_ENTER_', hex: true,
    entries: [['GETEVENTS', 1 << 0], ['SQ_WAKEUP', 1 << 1], ['SQ_WAIT', 1 << 2]],
  },
  {
    id: 'cqe',
    doc: 'CQE flags; a provided buffer\'s id is flags >> CQE_BUFFER_SHIFT.',
    c: 'ZL_CQE_', ts: 'IORING_CQE_', hex: true,
    entries: [
      ['F_BUFFER', 1 << 0], ['F_MORE', 1 << 1], ['F_SOCK_NONEMPTY', 1 << 2], ['F_NOTIF', 1 << 3],
      ['F_BUF_MORE', 1 << 4], ['BUFFER_SHIFT', 16],
    ],
  },
  {
    id: 'bufring',
    doc: 'setup-buf-ring flags.',
    c: 'ZL_PBUF_', ts: 'IOU_PBUF_', hex: true,
    entries: [['RING_INC', 2]],
  },
  {
    id: 'cancel',
    doc: 'prep-cancel64 flags.',
    c: 'ZL_ASYNC_', ts: 'IORING_ASYNC_', hex: true,
    entries: [['CANCEL_ALL', 1 << 0], ['CANCEL_ANY', 1 << 2]],
  },
  {
    id: 'event',
    doc: 'Event kinds in the batch `tick` returns (reactor.wit): 4 u32 words per event,\n' +
      'w0 = kind | conn << 8.',
    c: 'ZL_', ts: '',
    entries: [
      ['EV_OPEN', 1, 'w1 = fd'],
      ['EV_DATA', 2, 'w1 = bid, w2 = offset in the recv slab, w3 = length'],
      ['EV_EOF', 3],
      ['EV_SENT', 4, 'w1 = ranges completed, w2 = bytes'],
      ['EV_CLOSED', 5, 'w1 = errno (0 clean)'],
      ['EV_ERROR', 6, 'listener: w1 = errno, w2 = 1 accept re-armed / 0 gave up'],
      ['EV_HANDOFF', 7, 'conn = 0, w1 = an accepted fd this reactor does not own (listen-ex handoff)'],
    ],
  },
  {
    id: 'listen',
    doc: 'listen-ex flags: SO_REUSEPORT before bind; handoff mode (accepted fds become\n' +
      'EV_HANDOFF events instead of connections). Any other bit is -EINVAL.',
    c: 'ZL_', ts: '', hex: true,
    entries: [['LISTEN_REUSEPORT', 1 << 0], ['LISTEN_HANDOFF', 1 << 1], ['LISTEN_KNOWN', (1 << 0) | (1 << 1)]],
  },
];
