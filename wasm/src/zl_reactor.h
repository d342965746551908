/* zl_reactor.h — the one reactor this instance runs (one Wasm instance = one
 * reactor, so the state is a global; every zl_*.c reads the part it owns). */
#ifndef ZL_REACTOR_H
#define ZL_REACTOR_H

#include <stdbool.h>
#include <stdint.h>
#include "zl_host.h"

/* The exported `reactor-stats` record as the canonical ABI lays it out (jco
 * reads these offsets; see bridge/gen/reactor/reactor.js `stats`). */
typedef struct zl_stats {
    uint32_t connections_open;
    uint32_t _pad0;
    uint64_t accepted;
    uint64_t rejected;
    uint64_t closed;
    uint32_t buffers_kernel;
    uint32_t buffers_app;
    uint32_t buffers_returning;
    uint32_t _pad1;
    uint64_t enobufs;
    uint64_t stale_cqes;
    uint64_t sends;
    uint64_t short_sends;
    uint64_t bytes_in;
    uint64_t bytes_out;
    uint64_t cqes;
    uint64_t ticks;
    uint32_t ring_flags;
    uint32_t connections_paused;
    uint64_t pauses;
    uint64_t idle_timeouts;
    uint64_t end_timeouts;
    uint32_t recv_budget;
    uint32_t recv_reserve;
    int32_t listener_fd;
    uint32_t _pad3;
} zl_stats;
_Static_assert(sizeof(zl_stats) == 160, "reactor-stats layout");
_Static_assert(__builtin_offsetof(zl_stats, connections_paused) == 116, "connections-paused at 116");
_Static_assert(__builtin_offsetof(zl_stats, recv_budget) == 144, "recv-budget at 144");
_Static_assert(__builtin_offsetof(zl_stats, buffers_kernel) == 32, "buffers-kernel at 32");
_Static_assert(__builtin_offsetof(zl_stats, enobufs) == 48, "enobufs at 48");
_Static_assert(__builtin_offsetof(zl_stats, ring_flags) == 112, "ring-flags at 112");

/* Listener flags. */
enum {
    ZL_L_ARMED = 1u << 0,      /* a multishot accept is in the kernel */
    ZL_L_WANT_ARM = 1u << 1,   /* prepare an accept at the next flush */
    ZL_L_WANT_CANCEL = 1u << 2,
    ZL_L_CLOSING = 1u << 3,    /* stop-accepting: close lfd once the accept ended */
    ZL_L_FD_WAIT = 1u << 4,    /* EMFILE/ENFILE: re-arm once an fd is freed (see zl_accept_poll) */
};

typedef struct zl_reactor {
    bool created;
    bool defer_taskrun; /* CQEs appear only after an enter with GETEVENTS */
    uint32_t ring;
    uint32_t ring_flags;
    uint32_t cqe_batch;
    uint32_t sq_pending; /* SQEs prepared since the last submit */

    int32_t lfd; /* -1: no listener */
    uint32_t lgen;
    uint32_t lflags;
    uint64_t lwait_closed, lwait_tick; /* zl_r.closed / zl_r.ticks when FD_WAIT began */

    /* counters that are not gauges; gauges are filled in by stats() */
    uint64_t accepted, rejected, closed, enobufs, stale_cqes, sends, short_sends;
    uint64_t bytes_in, bytes_out, cqes, ticks;
} zl_reactor;

extern zl_reactor zl_r;

#endif
