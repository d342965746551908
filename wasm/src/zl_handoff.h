/* zl_handoff.h — listener options for many reactors in one process (the
 * `listen-ex` export): SO_REUSEPORT, and handoff mode, in which accepted fds
 * are reported to the caller (to be adopted by another reactor) instead of
 * becoming connections here. */
#ifndef ZL_HANDOFF_H
#define ZL_HANDOFF_H

#include <stdbool.h>
#include <stdint.h>

enum {
    ZL_LISTEN_REUSEPORT = 1u << 0,
    ZL_LISTEN_HANDOFF = 1u << 1,
    ZL_LISTEN_KNOWN = ZL_LISTEN_REUSEPORT | ZL_LISTEN_HANDOFF,
};

/* Event kind 7 (reactor.wit): conn = 0, w1 = an accepted fd this reactor
 * does not own; the caller adopts it elsewhere or closes it. */
#define ZL_EV_HANDOFF 7u

#endif
