/* zl_conn.h — the connection table: slots, the fd -> owner map, generations.
 *
 * A slot is FREE, OPEN, CLOSING (close requested or an error: waiting for the
 * recv and the send in flight to end) or DEAD (the `closed` event is queued; the
 * slot becomes FREE at the start of the next tick, after the app saw it).
 * Every fd the core owns (listener or connection) has a generation, bumped each
 * time the fd number gets a new owner; tokens carry it (zl_token.h).
 */
#ifndef ZL_CONN_H
#define ZL_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include "zl_ranges.h"

enum { ZL_CS_FREE = 0, ZL_CS_OPEN = 1, ZL_CS_CLOSING = 2, ZL_CS_DEAD = 3 };

/* flags */
enum {
    ZL_CF_RECV_ARMED = 1u << 0,    /* a multishot recv is in the kernel */
    ZL_CF_SEND_INFLIGHT = 1u << 1, /* one send/sendmsg is in the kernel */
    ZL_CF_STARVED = 1u << 2,       /* recv ended with -ENOBUFS: re-arm when buffers return */
    ZL_CF_EOF = 1u << 3,           /* the peer half-closed */
    ZL_CF_ABORT = 1u << 4,         /* closing without flushing queued writes */
    ZL_CF_WANT_SHUT = 1u << 5,     /* SHUT_WR once the queue is empty */
    ZL_CF_SHUT_DONE = 1u << 6,
    ZL_CF_IN_WORK = 1u << 7,       /* listed in the work list */
    ZL_CF_IN_STARVED = 1u << 8,    /* listed in the starved list */
    ZL_CF_FD_CLOSED = 1u << 9,     /* closing, fd already closed: late CQEs find it by (fd, gen) */
    ZL_CF_PAUSED = 1u << 10,       /* over its receive budget: recv cancelled, not re-armed (zl_budget.c) */
    ZL_CF_IN_RESUME = 1u << 11,    /* listed as a resume candidate */
    ZL_CF_ACTIVE = 1u << 12,       /* bytes moved since the last sweep (idle timeout) */
    ZL_CF_RECV_CANCEL = 1u << 13,  /* we cancelled the armed recv: its -ECANCELED is expected */
    ZL_CF_PAUSE_ARMED = 1u << 14,  /* paused while its recv is still armed (counted, zl_budget.c) */
    ZL_CF_RECV_ONESHOT = 1u << 15, /* the armed recv is one-shot (armed under pressure) */
};

/* work: SQEs to prepare at the next flush */
enum {
    ZL_W_ARM_RECV = 1u << 0,
    ZL_W_SEND = 1u << 1,
    ZL_W_CANCEL_RECV = 1u << 2,
    ZL_W_CANCEL_SEND = 1u << 3,
};

#define ZL_NIL 0xFFFFFFFFu

typedef struct zl_conn {
    int32_t fd;
    uint32_t gen;
    uint32_t state;
    uint32_t flags;
    uint32_t work;
    int32_t err;          /* positive errno reported by `closed` */
    zl_range_queue q;     /* queued write ranges (zl_ranges.h) */
    uint32_t head_sent_bytes; /* of the head range, already sent */
    uint32_t inflight_bytes;  /* of the send in flight */
    uint32_t next_free;   /* free/dead list link */
    uint32_t held;        /* recv buffers charged to this conn (zl_budget.c) */
    uint32_t epoch;       /* bumped each time the slot is reused: a buffer's charge names (slot, epoch) */
    uint32_t idle_ms;     /* time without bytes in or out, as counted by sweeps */
    uint32_t drain_ms;    /* time spent waiting to flush after end()/close() */
} zl_conn;
_Static_assert(sizeof(zl_conn) == 64, "zl_conn is 64 bytes");

/* Every table is sized here, once, from the config: nothing grows later.
 * Slots: max_conns open plus as many DEAD ones whose `closed` is not delivered
 * yet (reaped at the next tick). fds: numbers >= fd_cap are refused at accept. */
int32_t zl_conn_init(uint32_t max_conns, uint32_t fd_cap);
/* Slot capacity (the bound of every per-conn list: work, starved, resume). */
uint32_t zl_conn_capacity(void);
/* max_conns connections are open: the next one is refused before its fd is
 * touched (zl_accept.c); zl_conn_alloc asserts it was asked. */
bool zl_conn_full(void);
void zl_conn_fini(void);

/* A new OPEN connection on `fd` (the table is not full): the slot, -EBUSY
 * when every slot is open or DEAD, -EMFILE for an fd beyond the fd table.
 * Claims the fd. */
int32_t zl_conn_alloc(int32_t fd);
/* OPEN/CLOSING connection in `slot`, else NULL. */
zl_conn *zl_conn_get(uint32_t slot);
uint32_t zl_conn_slot(const zl_conn *c);
/* The live connection that owns `fd` (OPEN or CLOSING), else NULL. */
zl_conn *zl_conn_by_fd(int32_t fd);
/* The connection a CQE token names: the owner of `fd` if it has generation
 * `gen`, else a closing connection whose fd was already closed (the number may
 * belong to someone else by now). NULL: no such connection (a stale token).
 * `check_gen` false is the broken core's lookup: the fd's owner, whatever its
 * generation. */
zl_conn *zl_conn_find(int32_t fd, uint32_t gen, bool check_gen);
/* A CLOSING conn closed its fd early: gives up the fd number, keeps the slot
 * findable by (fd, gen) until it retires. */
void zl_conn_detach(zl_conn *c);
/* CLOSING -> DEAD: releases the fd number's ownership (if still held); the slot
 * is reused only after zl_conn_reap(). */
void zl_conn_retire(zl_conn *c);
/* DEAD -> FREE for every slot retired before this call. */
void zl_conn_reap(void);
uint32_t zl_conn_open_count(void);
/* Highest slot ever used + 1 (iteration bound). */
uint32_t zl_conn_span(void);
zl_conn *zl_conn_at(uint32_t slot); /* any state; slot < span */

/* fd ownership (listener and connections share the generation space). */
enum { ZL_FD_NONE = 0, ZL_FD_LISTENER = 1 /* else slot + 2 */ };
/* Per fd number: who owns it and its generation (zl_token.h), which outlives
 * owners so a late CQE for a reused number is recognised. */
typedef struct {
    uint32_t owner;
    uint32_t gen;
} zl_fd_entry;
_Static_assert(sizeof(zl_fd_entry) == 8, "zl_fd_entry is two words");
/* Makes `owner` the owner of `fd`, bumps and returns its generation; -EMFILE
 * when `fd` is beyond the table. */
int32_t zl_fd_claim(int32_t fd, uint32_t owner);
void zl_fd_release(int32_t fd);
uint32_t zl_fd_owner(int32_t fd);

#endif
