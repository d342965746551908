/* zl_work.h — deferred SQE preparation.
 * Handlers never prepare SQEs directly: they mark what a connection needs
 * (ZL_W_* in zl_conn.h) and the next flush prepares it. So all writes queued in
 * a tick are gathered into one send, an SQ that is full only delays work, and a
 * closing connection can cancel a re-arm that was never submitted. */
#ifndef ZL_WORK_H
#define ZL_WORK_H

#include <stdbool.h>
#include <stdint.h>
#include "zl_conn.h"

/* `slots`: the conn table's capacity. */
int32_t zl_work_init(uint32_t slots);
void zl_work_fini(void);
void zl_work_add(zl_conn *c, uint32_t work);
/* Publishes returned buffers, prepares every
 * pending SQE and submits: the one enter of a flush. Returns the submit result. */
int32_t zl_work_flush(void);
/* Work or buffer returns are queued: a flush has something to do. */
bool zl_work_pending(void);

#endif
