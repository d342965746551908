/* zl_listener.c — the listener (see zl_listener.h). One per reactor. In
 * handoff mode (an acceptor reactor) accepted fds are reported, not served. */
#include "zl_listener.h"
#include "zl_assert.h"
#include "zl_conn.h"
#include "zl_handoff.h"
#include "zl_host.h"

enum {
    ZL_L_ARMED = 1u << 0,       /* a multishot accept is in the kernel */
    ZL_L_WANT_ARM = 1u << 1,    /* queue an accept at the next flush */
    ZL_L_WANT_CANCEL = 1u << 2, /* queue a cancel of the accept */
    ZL_L_CLOSING = 1u << 3,     /* stop-accepting: close the fd once the accept ended */
    ZL_L_FD_WAIT = 1u << 4,     /* EMFILE/ENFILE: re-arm once an fd is freed */
};

/* Re-arming at once after EMFILE would fail again while the backlog is
 * non-empty (a busy loop of CQEs); this bounds the wait when nothing closes. */
enum { ZL_FD_WAIT_TICKS = 64 };

static struct {
    int32_t fd; /* -1: no listener */
    uint32_t gen;
    uint32_t flags;
    bool handoff;
    uint64_t tick;              /* the reactor's tick, as last told by poll */
    uint64_t wait_closed_total; /* when FD_WAIT began */
    uint64_t wait_tick;
} L = {.fd = -1};

static void check(void) {
    /* A cancel is only ever wanted for an armed accept of a closing listener,
     * and nothing is wanted or armed without an fd. */
    ZL_ASSERT(!(L.flags & ZL_L_WANT_CANCEL) || (L.flags & (ZL_L_ARMED | ZL_L_CLOSING)) == (ZL_L_ARMED | ZL_L_CLOSING));
    ZL_ASSERT(L.fd >= 0 || L.flags == 0);
    ZL_ASSERT(!(L.flags & ZL_L_FD_WAIT) || !(L.flags & (ZL_L_ARMED | ZL_L_WANT_ARM)));
}

void zl_listener_fini(void) {
    L.fd = -1;
    L.gen = 0;
    L.flags = 0;
    L.handoff = false;
    L.tick = L.wait_closed_total = L.wait_tick = 0;
}

static int32_t fail(int32_t fd, int32_t err) {
    zl_close(fd);
    return err;
}

int32_t zl_listener_open(const char *host, size_t host_len, uint16_t port, uint32_t family, int32_t backlog,
                         uint32_t flags) {
    if (L.fd >= 0)
        return -ZL_EALREADY; /* one listener per reactor */
    if (flags & ~(uint32_t)ZL_LISTEN_KNOWN)
        return -ZL_EINVAL;
    if (family != 0 && family != 4 && family != 6)
        return -ZL_EAFNOSUPPORT;
    int32_t af = family == 4 ? ZL_AF_INET : ZL_AF_INET6;
    zl_sock_addr a = {0};
    if (host_len > 0) {
        a = zl_inet_pton(af, host, host_len);
        if (a.ret < 0)
            return a.ret;
        if (a.ret != 1)
            return -ZL_EINVAL;
    } /* empty host: the wildcard address (all zero) */

    int32_t fd = zl_socket(af, ZL_SOCK_STREAM | ZL_SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fd;
    int32_t r = zl_setsockopt(fd, ZL_SOL_SOCKET, ZL_SO_REUSEADDR, 1);
    if (r < 0)
        return fail(fd, r);
    /* Before bind: every socket of a reuseport group must set it, the first too. */
    if (flags & ZL_LISTEN_REUSEPORT) {
        r = zl_setsockopt(fd, ZL_SOL_SOCKET, ZL_SO_REUSEPORT, 1);
        if (r < 0)
            return fail(fd, r);
    }
    if (af == ZL_AF_INET6) {
        r = zl_setsockopt(fd, ZL_IPPROTO_IPV6, ZL_IPV6_V6ONLY, family == 6 ? 1 : 0);
        if (r < 0)
            return fail(fd, r);
        r = zl_bind6(fd, port, a.hi, a.lo, 0);
    } else {
        r = zl_bind(fd, port, (uint32_t)a.lo);
    }
    if (r < 0)
        return fail(fd, r);
    r = zl_listen(fd, backlog > 0 ? backlog : 511);
    if (r < 0)
        return fail(fd, r);
    zl_sock_addr bound = zl_getsockname(fd);
    if (bound.ret < 0)
        return fail(fd, bound.ret);
    int32_t gen = zl_fd_claim(fd, ZL_FD_LISTENER);
    if (gen < 0)
        return fail(fd, gen);
    L.fd = fd;
    L.gen = (uint32_t)gen;
    L.flags = ZL_L_WANT_ARM;
    L.handoff = (flags & ZL_LISTEN_HANDOFF) != 0;
    check();
    return bound.port;
}

static void close_fd(void) {
    ZL_ASSERT(L.fd >= 0);
    zl_close(L.fd);
    zl_fd_release(L.fd);
    L.fd = -1;
    L.flags = 0;
    L.handoff = false;
}

int32_t zl_listener_stop(void) {
    if (L.fd < 0)
        return -ZL_EBADF;
    if (L.flags & ZL_L_CLOSING)
        return 0;
    L.flags &= ~(ZL_L_WANT_ARM | ZL_L_FD_WAIT);
    if (L.flags & ZL_L_ARMED) {
        L.flags |= ZL_L_CLOSING | ZL_L_WANT_CANCEL;
    } else {
        close_fd();
    }
    check();
    return 0;
}

void zl_listener_close_now(void) {
    if (L.fd >= 0)
        close_fd();
}

int32_t zl_listener_fd(void) { return L.fd; }

uint64_t zl_listener_token(zl_kind kind) {
    ZL_ASSERT(L.fd >= 0);
    return zl_token_pack(kind, L.gen, L.fd);
}

bool zl_listener_owns(const zl_token *t) {
#ifndef ZL_FAULT_SKIP_STALE_CHECK
    return L.fd == t->fd && L.gen == t->gen && zl_fd_owner(t->fd) == ZL_FD_LISTENER;
#else
    return L.fd == t->fd;
#endif
}

bool zl_listener_handoff(void) { return L.handoff; }
bool zl_listener_closing(void) { return (L.flags & ZL_L_CLOSING) != 0; }
bool zl_listener_armed(void) { return (L.flags & ZL_L_ARMED) != 0; }

uint32_t zl_listener_want(void) {
    if (L.fd < 0)
        return ZL_LISTENER_IDLE;
    check(); /* a cancel wanted always has its target */
    if (L.flags & ZL_L_WANT_CANCEL)
        return ZL_LISTENER_CANCEL;
    return (L.flags & ZL_L_WANT_ARM) ? ZL_LISTENER_ARM : ZL_LISTENER_IDLE;
}

void zl_listener_arm_queued(void) {
    ZL_ASSERT(L.fd >= 0 && (L.flags & ZL_L_WANT_ARM) && !(L.flags & ZL_L_WANT_CANCEL));
    L.flags = (L.flags & ~ZL_L_WANT_ARM) | ZL_L_ARMED;
    check();
}

void zl_listener_cancel_queued(void) {
    ZL_ASSERT(L.fd >= 0 && (L.flags & ZL_L_WANT_CANCEL));
    L.flags &= ~ZL_L_WANT_CANCEL;
    check();
}

void zl_listener_accept_cqe(bool more, bool give_up, bool out_of_fds, uint64_t closed_total) {
    ZL_ASSERT(L.flags & ZL_L_ARMED); /* paired with zl_listener_arm_queued */
    if (more)
        return;
    L.flags &= ~ZL_L_ARMED;
    if (L.flags & ZL_L_CLOSING) {
        close_fd();
    } else if (out_of_fds) {
        L.flags |= ZL_L_FD_WAIT;
        L.wait_closed_total = closed_total;
        L.wait_tick = L.tick;
    } else if (!give_up) {
        L.flags |= ZL_L_WANT_ARM;
    }
    check();
}

void zl_listener_poll(uint64_t tick, uint64_t closed_total) {
    ZL_ASSERT(tick >= L.tick);
    L.tick = tick;
    if (!(L.flags & ZL_L_FD_WAIT))
        return;
    if (closed_total != L.wait_closed_total || tick - L.wait_tick >= ZL_FD_WAIT_TICKS)
        L.flags = (L.flags & ~ZL_L_FD_WAIT) | ZL_L_WANT_ARM;
    check();
}

void zl_listener_idle(bool reaped_nothing) {
    if (reaped_nothing && (L.flags & ZL_L_FD_WAIT))
        L.flags = (L.flags & ~ZL_L_FD_WAIT) | ZL_L_WANT_ARM;
    check();
}
