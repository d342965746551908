// Linux constants the model needs (errno numbering is Linux's, as in host.wit).

export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const EINVAL = 22;
export const EMFILE = 24;
export const EPIPE = 32;
export const ETIME = 62;
export const ENOTSOCK = 88;
export const ENOPROTOOPT = 92;
export const EOPNOTSUPP = 95;
export const EAFNOSUPPORT = 97;
export const EADDRINUSE = 98;
export const EADDRNOTAVAIL = 99;
export const ECONNABORTED = 103;
export const ECONNRESET = 104;
export const ENOBUFS = 105;
export const EISCONN = 106;
export const ENOTCONN = 107;
export const ETIMEDOUT = 110;
export const ECONNREFUSED = 111;
export const EALREADY = 114;
export const ECANCELED = 125;

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0x800;
export const SOCK_CLOEXEC = 0x80000;
export const IPPROTO_TCP = 6;
export const IPPROTO_IPV6 = 41;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_KEEPALIVE = 9;
export const SO_REUSEPORT = 15;
export const TCP_NODELAY = 1;
export const IPV6_V6ONLY = 26;
export const SOMAXCONN = 4096;

export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const FD_CLOEXEC = 1;
export const O_RDWR = 2;
export const O_NONBLOCK = 0x800;

export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;

export const MSG_WAITALL = 0x100;

export const IORING_SETUP_SQPOLL = 1 << 1;
export const IORING_SETUP_SQ_AFF = 1 << 2;
export const IORING_SETUP_COOP_TASKRUN = 1 << 8;
export const IORING_SETUP_SINGLE_ISSUER = 1 << 12;
export const IORING_SETUP_DEFER_TASKRUN = 1 << 13;
export const KNOWN_SETUP_FLAGS =
  IORING_SETUP_SQPOLL | IORING_SETUP_SQ_AFF | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
export const IORING_MAX_ENTRIES = 32768;

export const IORING_ENTER_GETEVENTS = 1;
export const IORING_ENTER_SQ_WAKEUP = 2;
export const IORING_ENTER_SQ_WAIT = 4;

export const IORING_CQE_F_BUFFER = 1 << 0;
export const IORING_CQE_F_MORE = 1 << 1;
export const IORING_CQE_F_SOCK_NONEMPTY = 1 << 2;
export const IORING_CQE_F_BUF_MORE = 1 << 4;
export const IORING_CQE_BUFFER_SHIFT = 16;

export const IOU_PBUF_RING_INC = 2;
export const IORING_ASYNC_CANCEL_ALL = 1 << 0;
export const IORING_ASYNC_CANCEL_ANY = 1 << 2;

export const MAX_SENDMSG_IOV = 64;

// Least privilege (host.wit): the msg flags a guest may pass; other bits are -EINVAL.
export const MSG_DONTWAIT = 0x40;
export const MSG_MORE = 0x8000;
export const ALLOWED_SEND_FLAGS = MSG_DONTWAIT | MSG_WAITALL | MSG_MORE | 0x4000 /* MSG_NOSIGNAL */;
export const ALLOWED_RECV_FLAGS = MSG_DONTWAIT | MSG_WAITALL;
export const O_ACCMODE = 3;
export const EPROTONOSUPPORT = 93;
