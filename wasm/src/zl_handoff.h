/* zl_handoff.h — listener options for many reactors in one process (the
 * `listen-ex` export): SO_REUSEPORT, and handoff mode, in which accepted fds
 * are reported to the caller (to be adopted by another reactor) instead of
 * becoming connections here. */
#ifndef ZL_HANDOFF_H
#define ZL_HANDOFF_H

#include <stdbool.h>
#include <stdint.h>

/* ZL_LISTEN_* flags and ZL_EV_HANDOFF (event kind 7: conn = 0, w1 = an accepted
 * fd this reactor does not own; the caller adopts it elsewhere or closes it) are
 * in zl_consts.h (generated, shared with TS). */
#include "zl_consts.h"

#endif
