/* zl_sq.h — the submission queue as the core sees it: the ring's handle and
 * how many SQEs were queued since the last submit, so a close can tell
 * whether an SQE of ours may still name an fd without asking the host.
 * Each SQE is one fused host call (queue-*: get-sqe + prep + set-data64),
 * taking the token its CQEs will carry. Only the flush (zl_flush.c) queues
 * and submits; others read the count. */
#ifndef ZL_SQ_H
#define ZL_SQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zl_host.h"

void zl_sq_init(uint32_t ring);
void zl_sq_fini(void);

/* Each queues one SQE. When the SQ is full they submit once and retry. 0, or
 * -errno with nothing queued: -EBUSY (still full) and -ENOBUFS (the host's op
 * table is full until CQEs are reaped) mean "later", the caller keeps its
 * work for the next flush; any other error is the matching prep's. */
int32_t zl_sq_queue_multishot_accept(int32_t lfd, uint32_t flags, uint64_t token);
int32_t zl_sq_queue_recv(int32_t fd, uint32_t buf_group, bool multishot, uint64_t token);
int32_t zl_sq_queue_send(int32_t fd, const zl_slab_range *iov, uint32_t n, uint32_t flags, uint64_t token);
int32_t zl_sq_queue_cancel(uint64_t target, uint64_t token);
/* An error that leaves the work for a later flush (the SQ or the host's op
 * table was full), as opposed to a refusal of the request itself. */
bool zl_sq_later(int32_t err);

/* Submits pending SQEs (one enter). Returns how many, or -errno. */
int32_t zl_sq_submit(void);
/* Submits pending SQEs and runs the deferred completions in the same enter
 * (GETEVENTS, waiting for `min_complete` at most until `ts`). Returns how many
 * were submitted, or -errno (-ETIME: nothing to submit, fewer completions). */
int32_t zl_sq_submit_getevents(uint32_t min_complete, const struct __kernel_timespec *ts);
/* SQEs queued and not yet submitted. */
uint32_t zl_sq_pending(void);

#endif
