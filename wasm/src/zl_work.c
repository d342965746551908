/* zl_work.c — the work list (see zl_work.h). */
#include <stdlib.h>
#include "zl_work.h"
#include "zl_assert.h"
#include "zl_host.h"

/* Conn slots with work; each live conn at most once (ZL_CF_IN_WORK), so the
 * conn table's capacity always suffices. */
static struct {
    uint32_t *v;
    uint32_t n, capacity;
} W;

int32_t zl_work_init(uint32_t slots) {
    ZL_ASSERT(W.v == NULL);
    W.v = malloc((size_t)slots * sizeof(uint32_t));
    W.n = 0;
    W.capacity = slots;
    return W.v ? 0 : -ZL_ENOMEM;
}

void zl_work_fini(void) {
    free(W.v);
    W.v = NULL;
    W.n = W.capacity = 0;
}

void zl_work_add(zl_conn *c, uint32_t w) {
    c->work |= w;
    if (c->flags & ZL_CF_IN_WORK)
        return;
    ZL_ASSERT(W.n < W.capacity);
    W.v[W.n++] = zl_conn_slot(c);
    c->flags |= ZL_CF_IN_WORK;
}

uint32_t zl_work_count(void) { return W.n; }

void zl_work_pass(uint32_t (*prepare)(zl_conn *c)) {
    uint32_t k = 0;
    for (uint32_t i = 0; i < W.n; i++) {
        zl_conn *c = zl_conn_at(W.v[i]);
        ZL_ASSERT(c->flags & ZL_CF_IN_WORK); /* paired with zl_work_add */
        uint32_t left = prepare(c);
        c->work |= left; /* plus work a handler added while preparing */
        if (c->work && (c->state == ZL_CS_OPEN || c->state == ZL_CS_CLOSING)) {
            W.v[k++] = W.v[i]; /* k <= i: compaction in place */
        } else {
            c->flags &= ~ZL_CF_IN_WORK;
        }
    }
    W.n = k;
}
