/* zl_work.h — the work list: connections with SQEs to queue at the next
 * flush (ZL_W_* in zl_conn.h). Handlers never queue SQEs themselves: they
 * mark what a connection needs, so all writes of a tick gather into one send,
 * a full SQ only delays work, and a closing connection can drop a re-arm that
 * was never submitted. A leaf over the conn table: the flush walks it. */
#ifndef ZL_WORK_H
#define ZL_WORK_H

#include <stdint.h>
#include "zl_conn.h"

/* `slots`: the conn table's capacity. 0 or -ENOMEM. */
int32_t zl_work_init(uint32_t slots);
void zl_work_fini(void);
void zl_work_add(zl_conn *c, uint32_t work);
/* Connections listed. */
uint32_t zl_work_count(void);
/* One pass in list order: `prepare` takes the conn's work and returns what it
 * left undone. Conns listed during the pass are visited in it; a live conn
 * with work left stays listed. */
void zl_work_pass(uint32_t (*prepare)(zl_conn *c));

#endif
