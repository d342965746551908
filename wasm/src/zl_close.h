/* zl_close.h — closing a connection: cancel the recv (and, when aborting, the
 * send in flight), close the fd as soon as no SQE of ours can name it any more,
 * wait for the last CQEs of the cancelled requests (they reach this conn by
 * fd *and* generation, even after the fd number was reused), then give back
 * every buffer the conn's queue held and report `closed` exactly once. Buffers
 * a send may still read are kept until its CQE, so `closed` also means the app
 * may free every slab it wrote from. Below the CQE handlers: they, the
 * exports and the sweep all end connections through here. */
#ifndef ZL_CLOSE_H
#define ZL_CLOSE_H

#include <stdbool.h>
#include <stdint.h>
#include "zl_conn.h"

typedef struct zl_close_counters {
    uint64_t closed; /* `closed` events pushed */
} zl_close_counters;
_Static_assert(sizeof(zl_close_counters) == 8, "zl_close_counters is 8 bytes");

void zl_close_fini(void);
const zl_close_counters *zl_close_counters_view(void);
/* OPEN -> CLOSING (or upgrades a graceful close to abortive). `err`: positive
 * errno for `closed` (0 = clean); the first error wins. */
void zl_close_begin(zl_conn *c, bool abort, int32_t err);
/* CLOSING and nothing left in the kernel: finish. Idempotent. */
void zl_close_check(zl_conn *c);
/* destroy(): closes every live conn's fd without events (the ring is gone). */
void zl_close_all_now(void);

#endif
