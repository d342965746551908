/* zl_accept.h — the listener and its multishot accept. */
#ifndef ZL_ACCEPT_H
#define ZL_ACCEPT_H

#include <stddef.h>
#include <stdint.h>
#include "zl_host.h"
#include "zl_token.h"

/* socket/setsockopt/bind/listen/getsockname: the bound port or -errno
 * (zl_listen.c). The accept is armed at the next flush. */
int32_t zl_listen_open(const char *host, size_t host_len, uint16_t port, uint32_t family, int32_t backlog);
/* Cancels the accept; the listener fd closes once the accept has ended. */
int32_t zl_accept_stop(void);
/* Flush: arms or cancels the accept as asked. */
void zl_accept_prep(void);
void zl_accept_on_cqe(const zl_token *t, const struct io_uring_cqe *cqe);
/* A connected fd becomes a conn (accepted or adopted). The slot or -errno; on
 * -EBUSY (max-connections) the fd is closed and counted rejected. */
int32_t zl_accept_take(int32_t fd);
/* Tick: an accept parked by EMFILE/ENFILE is re-armed once one of our
 * connections has closed (an fd was freed) or after ZL_FD_WAIT_TICKS ticks. */
void zl_accept_poll(void);
/* End of a tick: a tick that reaped nothing (the host's retry timer on an idle
 * reactor) re-arms a parked accept too, so an idle server cannot stay deaf. */
void zl_accept_idle(bool reaped_nothing);
/* destroy(): closes the listener now. */
void zl_accept_close_now(void);

#endif
