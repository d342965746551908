// Constants the model needs. Everything the core also sees (errnos, socket and
// ring flags) comes from the generated table (bridge/consts.ts, from
// wasm/abi/constants.mjs); what follows it are Linux values only the model
// uses (the core never passes or receives them).
export * from '../consts.ts';
import {
  IORING_SETUP_COOP_TASKRUN, IORING_SETUP_DEFER_TASKRUN, IORING_SETUP_SINGLE_ISSUER, IORING_SETUP_SQPOLL,
  IORING_SETUP_SQ_AFF, MSG_NOSIGNAL, MSG_WAITALL,
} from '../consts.ts';

export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_KEEPALIVE = 9;
export const SOMAXCONN = 4096;

export const F_GETFD = 1;
export const F_SETFD = 2;
export const FD_CLOEXEC = 1;
export const O_RDWR = 2;
export const O_ACCMODE = 3;

export const SHUT_RD = 0;

export const KNOWN_SETUP_FLAGS =
  IORING_SETUP_SQPOLL | IORING_SETUP_SQ_AFF | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
export const IORING_MAX_ENTRIES = 32768;

export const MAX_SENDMSG_IOV = 64;

// Least privilege (host.wit): the msg flags a guest may pass; other bits are -EINVAL.
export const MSG_DONTWAIT = 0x40;
export const MSG_MORE = 0x8000;
export const ALLOWED_SEND_FLAGS = MSG_DONTWAIT | MSG_WAITALL | MSG_MORE | MSG_NOSIGNAL;
export const ALLOWED_RECV_FLAGS = MSG_DONTWAIT | MSG_WAITALL;
