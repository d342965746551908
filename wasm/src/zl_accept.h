/* zl_accept.h — the accept CQE handler and the intake of a connected fd. */
#ifndef ZL_ACCEPT_H
#define ZL_ACCEPT_H

#include <stdint.h>
#include "zl_host.h"

typedef struct zl_accept_counters {
    uint64_t accepted; /* fds that became connections */
    uint64_t rejected; /* fds closed at the door (limits, a closing listener) */
} zl_accept_counters;
_Static_assert(sizeof(zl_accept_counters) == 16, "zl_accept_counters is 16 bytes");

void zl_accept_fini(void);
const zl_accept_counters *zl_accept_counters_view(void);
/* A connected fd becomes a conn (accepted or adopted). The slot or -errno; on
 * -EBUSY (max-connections) the fd is closed and counted rejected. */
int32_t zl_accept_take(int32_t fd);
/* A CQE of the current listener's accept (zl_listener_owns). */
void zl_accept_on_cqe(const struct io_uring_cqe *cqe);
/* A CQE of a listener closed since: an fd it carries is nobody's. */
void zl_accept_drop(const struct io_uring_cqe *cqe);

#endif
