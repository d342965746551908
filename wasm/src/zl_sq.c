/* zl_sq.c — SQE acquisition and submission. */
#include "zl_sq.h"
#include "zl_assert.h"
#include "zl_host.h"
#include "zl_reactor.h"

int32_t zl_sq_get(void) {
    int32_t sqe = zl_get_sqe(zl_r.ring);
    if (sqe == -ZL_EBUSY) {
        /* Full SQ: push what is prepared (invalidates no handle we hold: each SQE
         * is prepared and committed before the next get). */
        zl_sq_submit();
        sqe = zl_get_sqe(zl_r.ring);
    }
    return sqe;
}

void zl_sq_commit(int32_t sqe, uint64_t user_data) {
    int32_t r = zl_sqe_set_data64((uint32_t)sqe, user_data);
    ZL_ASSERT(r >= 0); /* the handle came from zl_sq_get and no submit happened since */
    zl_r.sq_pending++;
}

int32_t zl_sq_submit(void) {
    if (zl_r.sq_pending == 0)
        return 0;
    int32_t r = zl_submit(zl_r.ring);
    if (r >= 0)
        zl_r.sq_pending = (uint32_t)r >= zl_r.sq_pending ? 0 : zl_r.sq_pending - (uint32_t)r;
    return r;
}

