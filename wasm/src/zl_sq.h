/* zl_sq.h — SQE acquisition and submission. Every SQE the core prepares goes
 * through here, so the core knows how many are pending without asking. */
#ifndef ZL_SQ_H
#define ZL_SQ_H

#include <stdint.h>

/* A fresh SQE handle; when the SQ is full, submits once and retries. -errno
 * when there is still none (the caller keeps its work for the next flush). */
int32_t zl_sq_get(void);
/* Sets user_data on a prepared SQE and counts it pending. */
void zl_sq_commit(int32_t sqe, uint64_t user_data);
/* Submits pending SQEs (one enter). Returns how many, or -errno. */
int32_t zl_sq_submit(void);


#endif
