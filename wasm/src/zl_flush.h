/* zl_flush.h — the flush: publishes returned buffers, lets the budget resume
 * and re-arm, queues every SQE the listener and the work list ask for, and
 * submits them with one enter. The only module that queues SQEs (zl_sq.h):
 * handlers only mark work, so what a tick asked for goes out together. */
#ifndef ZL_FLUSH_H
#define ZL_FLUSH_H

#include <stdbool.h>
#include <stdint.h>

/* The submit result (SQEs submitted, or -errno). */
int32_t zl_flush(void);
/* zl_flush without the submit: the SQEs stay pending for the caller's own
 * enter (a tick submits them with its GETEVENTS). */
void zl_flush_prepare(void);
/* Work, buffer returns, a listener re-arm or a budget poll is waiting: a
 * flush has something to do. */
bool zl_flush_pending(void);

#endif
