/* zl_listen.c — the listening socket (family 4, 6, or 0 = dual-stack v6), and
 * the `listen-ex` export: SO_REUSEPORT and handoff mode (zl_handoff.h). */
#include <stdlib.h>
#include "zl_accept.h"
#include "zl_conn.h"
#include "zl_handoff.h"
#include "zl_reactor.h"

static int32_t fail(int32_t fd, int32_t err) {
    zl_close(fd);
    return err;
}

int32_t zl_listen_open(const char *host, size_t host_len, uint16_t port, uint32_t family, int32_t backlog) {
    return zl_listen_open_ex(host, host_len, port, family, backlog, 0);
}

int32_t zl_listen_open_ex(const char *host, size_t host_len, uint16_t port, uint32_t family,
                          int32_t backlog, uint32_t flags) {
    if (zl_r.lfd >= 0)
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
    zl_r.lfd = fd;
    zl_r.lgen = (uint32_t)gen;
    zl_r.lflags = ZL_L_WANT_ARM;
    zl_accept_set_handoff((flags & ZL_LISTEN_HANDOFF) != 0);
    return bound.port;
}

/* Same canonical-ABI shape as `listen` in zl_api.c, plus the flags. */
__attribute__((export_name("zergling:reactor/reactor#listen-ex")))
int32_t zl_x_listen_ex(char *host, size_t host_len, uint32_t port, uint32_t family, int32_t backlog,
                       uint32_t flags) {
    int32_t r = zl_r.created ? zl_listen_open_ex(host, host_len, (uint16_t)port, family, backlog, flags)
                             : -ZL_EBADF;
    if (host_len > 0)
        free(host); /* allocated by the glue with cabi_realloc; ours now */
    return r;
}
