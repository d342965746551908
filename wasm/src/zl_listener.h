/* zl_listener.h — the listening socket and the state of its multishot
 * accept. This module owns every listener field; the accept CQE handler
 * (zl_accept.c) and the flush (zl_flush.c) change it only through these
 * calls, so each flag transition is asserted in one place. */
#ifndef ZL_LISTENER_H
#define ZL_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zl_token.h"

/* What the next flush must queue for the listener. */
enum { ZL_LISTENER_IDLE = 0, ZL_LISTENER_ARM = 1, ZL_LISTENER_CANCEL = 2 };

void zl_listener_fini(void);
/* socket/setsockopt/bind/listen/getsockname (family 4, 6, or 0 = dual-stack
 * v6; `flags`: ZL_LISTEN_* of zl_handoff.h): the bound port or -errno. The
 * accept is armed at the next flush. */
int32_t zl_listener_open(const char *host, size_t host_len, uint16_t port, uint32_t family, int32_t backlog,
                         uint32_t flags);
/* Cancels the accept; the fd closes once the accept has ended. */
int32_t zl_listener_stop(void);
/* destroy(): closes the listener now. */
void zl_listener_close_now(void);

/* The listener fd, or -1. */
int32_t zl_listener_fd(void);
/* The accept's token: kind ZL_K_ACCEPT, the listener's fd and generation. */
uint64_t zl_listener_token(zl_kind kind);
/* A CQE token names the current listener (not a closed predecessor). */
bool zl_listener_owns(const zl_token *t);
bool zl_listener_handoff(void);
bool zl_listener_closing(void);
bool zl_listener_armed(void);

/* Flush: ZL_LISTENER_* (what to queue); then the matching `queued` call. */
uint32_t zl_listener_want(void);
void zl_listener_arm_queued(void);
void zl_listener_cancel_queued(void);

/* The accept posted a CQE. `more`: F_MORE (still armed). Without it the
 * accept has ended: a closing listener closes; `out_of_fds` (EMFILE/ENFILE)
 * parks the re-arm until an fd is freed (`closed_total`: connections closed so
 * far); `give_up` (a permanent error) leaves it unarmed; else it re-arms. */
void zl_listener_accept_cqe(bool more, bool give_up, bool out_of_fds, uint64_t closed_total);
/* Each tick, first: a parked accept re-arms once a connection has closed
 * since it parked (an fd was freed) or after ZL_FD_WAIT_TICKS ticks. */
void zl_listener_poll(uint64_t tick, uint64_t closed_total);
/* End of a tick: a tick that reaped nothing (the host's retry timer on an
 * idle reactor) re-arms a parked accept too, so an idle server cannot stay deaf. */
void zl_listener_idle(bool reaped_nothing);

#endif
