/* zl_sq.c — SQE acquisition and submission (see zl_sq.h). */
#include "zl_sq.h"
#include "zl_assert.h"
#include "zl_host.h"

static struct {
    uint32_t ring;
    uint32_t pending;
    /* the one SQE handle got and not committed yet, or -1: a submit in
     * between would kill it */
    int32_t open_sqe;
} Q = {.open_sqe = -1};

void zl_sq_init(uint32_t ring) {
    Q.ring = ring;
    Q.pending = 0;
    Q.open_sqe = -1;
}

void zl_sq_fini(void) {
    Q.ring = 0;
    Q.pending = 0;
    Q.open_sqe = -1;
}

int32_t zl_sq_get(void) {
    ZL_ASSERT(Q.open_sqe < 0); /* each SQE is committed before the next get */
    int32_t sqe = zl_get_sqe(Q.ring);
    if (sqe == -ZL_EBUSY) {
        /* Full SQ: push what is prepared (invalidates no handle we hold). */
        zl_sq_submit();
        sqe = zl_get_sqe(Q.ring);
    }
    if (sqe >= 0)
        Q.open_sqe = sqe;
    return sqe;
}

void zl_sq_commit(int32_t sqe, uint64_t user_data) {
    ZL_ASSERT(sqe >= 0 && sqe == Q.open_sqe); /* paired with zl_sq_get */
    int32_t r = zl_sqe_set_data64((uint32_t)sqe, user_data);
    ZL_ASSERT(r >= 0); /* the handle came from zl_sq_get and no submit happened since */
    Q.open_sqe = -1;
    Q.pending++;
}

int32_t zl_sq_submit(void) {
    ZL_ASSERT(Q.open_sqe < 0); /* a submit would kill the open handle */
    if (Q.pending == 0)
        return 0;
    int32_t r = zl_submit(Q.ring);
    if (r >= 0)
        Q.pending = (uint32_t)r >= Q.pending ? 0 : Q.pending - (uint32_t)r;
    return r;
}

uint32_t zl_sq_pending(void) { return Q.pending; }
