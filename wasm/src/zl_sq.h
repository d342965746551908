/* zl_sq.h — the submission queue as the core sees it: the ring's handle and
 * how many SQEs were queued since the last submit, so a close can tell
 * whether an SQE of ours may still name an fd without asking the host.
 * Only the flush (zl_flush.c) queues and submits; others read the count. */
#ifndef ZL_SQ_H
#define ZL_SQ_H

#include <stdint.h>

void zl_sq_init(uint32_t ring);
void zl_sq_fini(void);
/* A fresh SQE handle; when the SQ is full, submits once and retries. -errno
 * when there is still none (the caller keeps its work for the next flush). */
int32_t zl_sq_get(void);
/* Sets user_data on a prepared SQE and counts it pending. */
void zl_sq_commit(int32_t sqe, uint64_t user_data);
/* Submits pending SQEs (one enter). Returns how many, or -errno. */
int32_t zl_sq_submit(void);
/* SQEs queued and not yet submitted. */
uint32_t zl_sq_pending(void);

#endif
