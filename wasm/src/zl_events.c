/* zl_events.c — event batch buffer, double-buffered, sized at create() for
 * the most events one batch can hold (zl_events.h), so it never grows. */
#include <stdlib.h>
#include "zl_events.h"
#include "zl_assert.h"

typedef struct zl_evbuf {
    uint32_t *w;
    uint32_t n;   /* words */
    uint32_t cap; /* words */
} zl_evbuf;

static zl_evbuf bufs[2];
static uint32_t cur;
static zl_list out;

int zl_ev_init(uint32_t max_events) {
    for (int i = 0; i < 2; i++) {
        ZL_ASSERT(bufs[i].w == NULL);
        bufs[i].cap = max_events * ZL_EV_WORDS;
        bufs[i].n = 0;
        /* malloc: a batch touches only the pages it fills. */
        bufs[i].w = malloc((size_t)bufs[i].cap * sizeof(uint32_t));
        if (!bufs[i].w)
            return -ZL_ENOMEM;
    }
    cur = 0;
    return 0;
}

void zl_ev_fini(void) {
    for (int i = 0; i < 2; i++) {
        free(bufs[i].w);
        bufs[i].w = NULL;
        bufs[i].n = bufs[i].cap = 0;
    }
}

void zl_ev_push(uint32_t kind, uint32_t conn, uint32_t w1, uint32_t w2, uint32_t w3) {
    zl_evbuf *b = &bufs[cur];
    ZL_ASSERT(conn <= ZL_EV_MAX_CONN && kind <= 0xFF);
    /* The capacity is the bound of zl_events.h: more would be a bookkeeping bug,
     * and dropping an event (a `closed`) would leak a slot forever. */
    ZL_ASSERT(b->n + ZL_EV_WORDS <= b->cap);
    uint32_t *e = b->w + b->n;
    e[0] = kind | conn << 8;
    e[1] = w1;
    e[2] = w2;
    e[3] = w3;
    b->n += ZL_EV_WORDS;
}

zl_list *zl_ev_take(void) {
    zl_evbuf *b = &bufs[cur];
    out.ptr = b->w;
    out.len = b->n;
    cur ^= 1;
    bufs[cur].n = 0;
    return &out;
}
